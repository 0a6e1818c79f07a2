/**
 * The browser phone seen by the rest of the app. Implemented by the Twilio Voice SDK (live mode)
 * and by the simulator client (demo mode); see README.md. Not implemented yet.
 */
export type VoiceClientState = 'unregistered' | 'registering' | 'registered' | 'error';

export interface IncomingCall {
  /** Twilio's CallSid of the agent leg. */
  callSid: string;
  /** Custom parameters the backend put on the agent leg (e.g. our call id). */
  parameters: Readonly<Record<string, string>>;
  accept(): Promise<void>;
  reject(): Promise<void>;
  /** Hang up this leg from the browser. */
  disconnect(): void;
  mute(muted: boolean): void;
}

export interface VoiceClientEvents {
  state: (state: VoiceClientState, error?: Error) => void;
  incoming: (call: IncomingCall) => void;
  /** The incoming call stopped ringing (answered elsewhere, cancelled, or timed out). */
  cancelled: (callSid: string) => void;
  disconnected: (callSid: string) => void;
}

export interface VoiceClient {
  readonly state: VoiceClientState;
  register(): Promise<void>;
  unregister(): Promise<void>;
  on<E extends keyof VoiceClientEvents>(event: E, listener: VoiceClientEvents[E]): () => void;
  destroy(): void;
}
