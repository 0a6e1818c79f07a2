/**
 * The agent's microphone and speaker: which ones exist, which the agent picked (kept per browser
 * in localStorage), asking for microphone access, and a test tone through the chosen speaker.
 */
export interface AudioPreferences {
  /** `MediaDeviceInfo.deviceId` of the microphone; null = the browser's default. */
  inputId: string | null;
  /** `MediaDeviceInfo.deviceId` of the speaker; null = the browser's default. */
  outputId: string | null;
}

export const AUDIO_PREFERENCES_KEY = 'warm-transfer.audio';
const NO_PREFERENCES: AudioPreferences = { inputId: null, outputId: null };

export function loadAudioPreferences(storage: Storage | null = safeLocalStorage()): AudioPreferences {
  try {
    const raw = storage?.getItem(AUDIO_PREFERENCES_KEY);
    if (!raw) return NO_PREFERENCES;
    const parsed = JSON.parse(raw) as Partial<AudioPreferences>;
    return {
      inputId: typeof parsed.inputId === 'string' && parsed.inputId ? parsed.inputId : null,
      outputId: typeof parsed.outputId === 'string' && parsed.outputId ? parsed.outputId : null,
    };
  } catch {
    return NO_PREFERENCES;
  }
}

export function saveAudioPreferences(preferences: AudioPreferences, storage: Storage | null = safeLocalStorage()): void {
  try {
    storage?.setItem(AUDIO_PREFERENCES_KEY, JSON.stringify(preferences));
  } catch {
    // Private mode or a full quota: the choice lasts for this page only.
  }
}

function safeLocalStorage(): Storage | null {
  try {
    return typeof window !== 'undefined' ? window.localStorage : null;
  } catch {
    return null;
  }
}

export interface AudioDeviceOption {
  id: string;
  label: string;
}

export interface AudioDevices {
  inputs: AudioDeviceOption[];
  outputs: AudioDeviceOption[];
  /** Browsers hide device names until microphone access is granted. */
  labelled: boolean;
}

type MediaDevicesLike = Pick<MediaDevices, 'enumerateDevices' | 'getUserMedia'>;

function mediaDevices(): MediaDevicesLike | null {
  return typeof navigator !== 'undefined' && navigator.mediaDevices ? navigator.mediaDevices : null;
}

/** The microphones and speakers the browser reports (none when it offers no media devices). */
export async function listAudioDevices(devices: MediaDevicesLike | null = mediaDevices()): Promise<AudioDevices> {
  if (!devices) return { inputs: [], outputs: [], labelled: false };
  const all = await devices.enumerateDevices();
  const pick = (kind: MediaDeviceKind, name: string) =>
    all
      .filter((d) => d.kind === kind && d.deviceId !== '')
      .map((d, i) => ({ id: d.deviceId, label: d.label || `${name} ${i + 1}` }));
  return {
    inputs: pick('audioinput', 'Microphone'),
    outputs: pick('audiooutput', 'Speaker'),
    labelled: all.some((d) => d.label !== ''),
  };
}

/**
 * Asks for the microphone (the browser prompts the first time) and releases it at once: done when
 * the agent goes available, so that no prompt covers the Accept button while a call rings.
 * Returns why it failed, or null.
 */
export async function requestMicrophone(inputId: string | null, devices: MediaDevicesLike | null = mediaDevices()): Promise<string | null> {
  if (!devices) return 'This browser gives the page no access to a microphone.';
  try {
    const stream = await devices.getUserMedia({ audio: inputId ? { deviceId: { exact: inputId } } : true });
    for (const track of stream.getTracks()) track.stop();
    return null;
  } catch (err) {
    const name = err instanceof DOMException || err instanceof Error ? err.name : '';
    if (name === 'NotAllowedError' || name === 'SecurityError') {
      return 'Microphone access was denied. Allow the microphone for this site to take calls.';
    }
    if (name === 'OverconstrainedError' || name === 'NotFoundError') {
      return inputId ? 'The chosen microphone is not connected. Pick another one in Audio settings.' : 'No microphone was found. Connect one to take calls.';
    }
    if (name === 'NotReadableError') return 'The microphone is in use by another application or could not be opened.';
    return 'The microphone could not be opened.';
  }
}

/** Whether the browser can route audio to a chosen speaker (`HTMLMediaElement.setSinkId`). */
export function outputSelectionSupported(): boolean {
  return typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype;
}

/**
 * Plays a short two-note tone through `outputId` (or the default speaker). Resolves when it has
 * finished, with why it could not play, or null.
 */
export async function playTestTone(outputId: string | null, durationMs = 900): Promise<string | null> {
  const Context = typeof window !== 'undefined' ? window.AudioContext : undefined;
  if (!Context) return 'This browser cannot play a test tone.';
  const context = new Context();
  const audio = new Audio();
  try {
    const destination = context.createMediaStreamDestination();
    const gain = context.createGain();
    gain.gain.value = 0.15;
    gain.connect(destination);
    const start = context.currentTime;
    const half = durationMs / 2000;
    for (const [i, frequency] of [440, 660].entries()) {
      const oscillator = context.createOscillator();
      oscillator.frequency.value = frequency;
      oscillator.connect(gain);
      oscillator.start(start + i * half);
      oscillator.stop(start + (i + 1) * half);
    }
    audio.srcObject = destination.stream;
    if (outputId && outputSelectionSupported()) {
      await (audio as HTMLAudioElement & { setSinkId(id: string): Promise<void> }).setSinkId(outputId);
    }
    await audio.play();
    await new Promise((resolve) => setTimeout(resolve, durationMs));
    return null;
  } catch (err) {
    const name = err instanceof DOMException || err instanceof Error ? err.name : '';
    if (name === 'NotFoundError') return 'The chosen speaker is not connected. Pick another one.';
    if (name === 'NotAllowedError') return 'The browser blocked the sound. Click the page and try again.';
    return 'The test tone could not be played.';
  } finally {
    audio.pause();
    audio.srcObject = null;
    void context.close().catch(() => {});
  }
}
