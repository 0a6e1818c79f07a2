/**
 * The browser phone seen by the rest of the app: one registered endpoint for the signed-in agent
 * that rings, answers, mutes and hangs up calls. Implemented by the Twilio Voice SDK (live mode)
 * and by the demo simulator client; see README.md. Features never touch either directly: they use
 * `Phone` (phone.ts), which runs the call state machine on top of a `VoiceClient`.
 *
 * Calls are identified by the CallSid of the agent's leg.
 */
export type VoiceClientState = 'unregistered' | 'registering' | 'registered' | 'error';

export interface IncomingCallInfo {
  /** Twilio's CallSid of the agent leg. */
  callSid: string;
  /** Who is calling, as the leg presents it (the customer's number, or a transferring agent). */
  from: string;
  to: string;
  /** Custom parameters the backend put on the agent leg (e.g. our call id). */
  parameters: Readonly<Record<string, string>>;
}

/** Something went wrong in the browser phone; shown to the agent. */
export interface VoiceError {
  /** Twilio's numeric error code (e.g. 31401 microphone denied), or a short string of ours. */
  code: number | string | null;
  message: string;
  /** The call it concerns, when it concerns one. */
  callSid?: string | null;
}

export interface VoiceClientEvents {
  state: (state: VoiceClientState) => void;
  error: (error: VoiceError) => void;
  incoming: (call: IncomingCallInfo) => void;
  /** The incoming call stopped ringing here: answered in another tab, caller gone, or timed out. */
  cancelled: (callSid: string) => void;
  /** The call was answered here and audio is up. */
  accepted: (callSid: string) => void;
  /** The leg ended (either side hung up, or we were removed). */
  disconnected: (callSid: string) => void;
  /** Local microphone mute changed. */
  muted: (callSid: string, muted: boolean) => void;
}

export interface VoiceClient {
  /** `demo` talks to the backend's Twilio simulator; `live` to Twilio. */
  readonly kind: 'demo' | 'live';
  readonly state: VoiceClientState;
  /** Start receiving calls. Resolves once registered; rejects (and emits `error`) on failure. */
  register(): Promise<void>;
  /** Stop receiving new calls. A call in progress keeps going. */
  unregister(): Promise<void>;
  accept(callSid: string): Promise<void>;
  reject(callSid: string): Promise<void>;
  /** Hang up this browser's leg. */
  hangup(callSid: string): Promise<void>;
  /** Mute this browser's microphone (the conference-level mute is a backend action). */
  mute(callSid: string, muted: boolean): void;
  on<E extends keyof VoiceClientEvents>(event: E, listener: VoiceClientEvents[E]): () => void;
  /**
   * Use this microphone and speaker (null = the browser's default) for calls from now on. The
   * simulator has no audio, so only the live client does anything with it.
   */
  /**
   * Take back the audio of this agent's leg that is still up, after a page reload. Only where the
   * leg outlives the page (the simulator); a WebRTC leg ends with the page that held it.
   */
  resume?(call: IncomingCallInfo): Promise<void>;
  setAudioDevices?(preferences: { inputId: string | null; outputId: string | null }): Promise<void>;
  /** Release everything (sign-out). Hangs up a call in progress. */
  destroy(): void;
}
