import { settle, type ApiClient, type AppMode } from '@/api';
import type { LiveEvents } from '@/live';
import { SimVoiceClient } from './sim-voice-client';
import type { IssuedToken } from './token-refresh';
import { TwilioVoiceClient } from './twilio-voice-client';
import type { VoiceClient } from './types';

export interface VoiceClientContext {
  api: ApiClient;
  agentId: string;
  events: LiveEvents | null;
}

/** `POST /api/voice/token`, as the refresher wants it. */
export function voiceTokenFetcher(api: ApiClient): () => Promise<IssuedToken> {
  return async () => {
    const result = await settle(api.POST('/api/voice/token'));
    if (!result.ok) throw new Error(result.problem.message);
    const parsed = Date.parse(result.data.expires_at);
    const expiresAt = Number.isFinite(parsed) ? parsed : Date.now() + result.data.ttl_seconds * 1000;
    return { token: result.data.token, expiresAt };
  };
}

/** The app's phone for the backend's mode: Twilio in live mode, the simulator in demo mode. */
export function createVoiceClient(mode: AppMode, context: VoiceClientContext): VoiceClient {
  if (mode === 'demo') {
    return new SimVoiceClient({ api: context.api, agentId: context.agentId, events: context.events });
  }
  return new TwilioVoiceClient({ fetchToken: voiceTokenFetcher(context.api) });
}
