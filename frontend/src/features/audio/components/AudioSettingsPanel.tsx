import { useCallback, useEffect, useId, useState } from 'react';
import {
  listAudioDevices,
  loadAudioPreferences,
  outputSelectionSupported,
  playTestTone,
  requestMicrophone,
  saveAudioPreferences,
  usePhone,
  type AudioDevices,
  type AudioPreferences,
} from '@/voice';

type Notice = { kind: 'ok' | 'problem'; text: string } | null;

/**
 * Audio settings: the microphone and speaker calls use (kept in this browser), microphone access,
 * and a test tone through the chosen speaker. The list follows devices being plugged in or out.
 */
export function AudioSettingsPanel() {
  const id = useId();
  const phone = usePhone();
  const [preferences, setPreferences] = useState<AudioPreferences>(loadAudioPreferences);
  const [devices, setDevices] = useState<AudioDevices | null>(null);
  const [testing, setTesting] = useState(false);
  const [asking, setAsking] = useState(false);
  const [notice, setNotice] = useState<Notice>(null);
  const canPickOutput = outputSelectionSupported();

  const refresh = useCallback(async () => {
    setDevices(await listAudioDevices().catch((): AudioDevices => ({ inputs: [], outputs: [], labelled: false })));
  }, []);

  useEffect(() => {
    void refresh();
    const media = typeof navigator !== 'undefined' ? navigator.mediaDevices : undefined;
    const onChange = () => void refresh();
    media?.addEventListener?.('devicechange', onChange);
    return () => media?.removeEventListener?.('devicechange', onChange);
  }, [refresh]);

  function choose(next: AudioPreferences) {
    setPreferences(next);
    setNotice(null);
    saveAudioPreferences(next);
    void phone?.setAudioDevices(next);
  }

  async function allowMicrophone() {
    setAsking(true);
    const problem = await requestMicrophone(preferences.inputId);
    setAsking(false);
    setNotice(problem ? { kind: 'problem', text: problem } : { kind: 'ok', text: 'Microphone allowed.' });
    await refresh();
  }

  async function testTone() {
    setTesting(true);
    setNotice(null);
    const problem = await playTestTone(preferences.outputId);
    setTesting(false);
    setNotice(problem ? { kind: 'problem', text: problem } : { kind: 'ok', text: 'Test tone played. Did you hear two notes?' });
  }

  const inputs = devices?.inputs ?? [];
  const outputs = devices?.outputs ?? [];
  return (
    <section className="panel audio-settings" aria-labelledby={`${id}-title`}>
      <div className="panel__head">
        <h2 id={`${id}-title`} className="panel__title">
          Audio settings
        </h2>
      </div>
      <div className="field">
        <label htmlFor={`${id}-input`}>Microphone</label>
        <select
          id={`${id}-input`}
          value={preferences.inputId ?? ''}
          onChange={(e) => choose({ ...preferences, inputId: e.target.value || null })}
        >
          <option value="">Browser default</option>
          {inputs.map((d) => (
            <option key={d.id} value={d.id}>
              {d.label}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-output`}>Speaker</label>
        <select
          id={`${id}-output`}
          value={canPickOutput ? (preferences.outputId ?? '') : ''}
          disabled={!canPickOutput}
          aria-describedby={canPickOutput ? undefined : `${id}-output-hint`}
          onChange={(e) => choose({ ...preferences, outputId: e.target.value || null })}
        >
          <option value="">Browser default</option>
          {canPickOutput &&
            outputs.map((d) => (
              <option key={d.id} value={d.id}>
                {d.label}
              </option>
            ))}
        </select>
        {!canPickOutput && (
          <p id={`${id}-output-hint`} className="field__hint">
            This browser always plays through the system’s default speaker.
          </p>
        )}
      </div>
      <div className="audio-settings__actions">
        <button type="button" className="button button--ghost" onClick={() => void testTone()} disabled={testing} aria-busy={testing || undefined}>
          {testing ? 'Playing…' : 'Play test tone'}
        </button>
        {devices && !devices.labelled && (
          <button type="button" className="button button--ghost" onClick={() => void allowMicrophone()} disabled={asking}>
            {asking ? 'Asking…' : 'Allow microphone'}
          </button>
        )}
      </div>
      <p className={notice?.kind === 'problem' ? 'problem' : 'muted'} role="status" data-testid="audio-notice">
        {notice?.text ?? ''}
      </p>
    </section>
  );
}
