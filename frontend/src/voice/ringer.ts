/**
 * The ringing sound cue: a soft double beep every few seconds, made with WebAudio (no audio file
 * to load). Browsers keep an AudioContext suspended until the page gets a user gesture; then
 * `blocked` is true and the UI asks for a click, after which `unlock()` (called on any click or
 * key press) lets it ring.
 */
export interface Ringer {
  start(): void;
  stop(): void;
  /** Call from a user gesture: allows sound from now on. */
  unlock(): void;
  readonly ringing: boolean;
  /** The browser blocks sound until the agent interacts with the page. */
  readonly blocked: boolean;
  onChange(listener: () => void): () => void;
  dispose(): void;
}

type AudioContextCtor = new () => AudioContext;

export interface WebAudioRingerOptions {
  /** Pause between rings. */
  periodMs?: number;
  AudioContext?: AudioContextCtor | null;
}

export function createWebAudioRinger(options: WebAudioRingerOptions = {}): Ringer {
  const periodMs = options.periodMs ?? 3_000;
  const Ctor: AudioContextCtor | null =
    options.AudioContext !== undefined
      ? options.AudioContext
      : typeof window !== 'undefined'
        ? ((window.AudioContext ??
            (window as unknown as { webkitAudioContext?: AudioContextCtor }).webkitAudioContext) ??
          null)
        : null;
  let ctx: AudioContext | null = null;
  let timer: ReturnType<typeof setInterval> | null = null;
  let ringing = false;
  let blocked = false;
  const listeners = new Set<() => void>();
  const notify = () => listeners.forEach((l) => l());

  function context(): AudioContext | null {
    if (!ctx && Ctor) {
      try {
        ctx = new Ctor();
      } catch {
        ctx = null;
      }
    }
    return ctx;
  }

  function setBlocked(value: boolean) {
    if (blocked !== value) {
      blocked = value;
      notify();
    }
  }

  function beep(at: number, frequency: number, duration: number) {
    if (!ctx) return;
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = 'sine';
    osc.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.15, at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + duration);
    osc.connect(gain).connect(ctx.destination);
    osc.start(at);
    osc.stop(at + duration + 0.05);
  }

  function ring() {
    const c = context();
    if (!c) return;
    if (c.state !== 'running') {
      setBlocked(true);
      void c.resume().then(
        () => {
          if (c.state === 'running') setBlocked(false);
        },
        () => {},
      );
      return;
    }
    setBlocked(false);
    const t = c.currentTime + 0.01;
    beep(t, 880, 0.25);
    beep(t + 0.35, 660, 0.35);
  }

  return {
    start() {
      if (ringing) return;
      ringing = true;
      ring();
      timer = setInterval(ring, periodMs);
      notify();
    },
    stop() {
      if (!ringing) return;
      ringing = false;
      if (timer) clearInterval(timer);
      timer = null;
      setBlocked(false);
      notify();
    },
    unlock() {
      const c = context();
      if (!c || c.state === 'running') {
        setBlocked(false);
        return;
      }
      void c.resume().then(
        () => {
          if (c.state === 'running') {
            setBlocked(false);
            if (ringing) ring();
          }
        },
        () => {},
      );
    },
    get ringing() {
      return ringing;
    },
    get blocked() {
      return blocked;
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    dispose() {
      if (timer) clearInterval(timer);
      timer = null;
      ringing = false;
      listeners.clear();
      void ctx?.close().catch(() => {});
      ctx = null;
    },
  };
}

/** A silent ringer (tests, or a browser without WebAudio). */
export function createSilentRinger(): Ringer {
  let ringing = false;
  const listeners = new Set<() => void>();
  return {
    start() {
      ringing = true;
      listeners.forEach((l) => l());
    },
    stop() {
      ringing = false;
      listeners.forEach((l) => l());
    },
    unlock() {},
    get ringing() {
      return ringing;
    },
    blocked: false,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    dispose() {
      listeners.clear();
    },
  };
}
