import { describe, expect, it, vi } from 'vitest';
import { MemoryStorage } from '@/testing/fixtures';
import { AUDIO_PREFERENCES_KEY, listAudioDevices, loadAudioPreferences, requestMicrophone, saveAudioPreferences } from './audio-devices';

const info = (kind: MediaDeviceKind, deviceId: string, label = '') => ({ kind, deviceId, label, groupId: '', toJSON: () => ({}) }) as MediaDeviceInfo;

function media(devices: MediaDeviceInfo[], getUserMedia: MediaDevices['getUserMedia'] = vi.fn()) {
  return { enumerateDevices: async () => devices, getUserMedia };
}

describe('audio preferences', () => {
  it('round-trip through storage; junk reads as the defaults', () => {
    const storage = new MemoryStorage();
    expect(loadAudioPreferences(storage)).toEqual({ inputId: null, outputId: null });
    saveAudioPreferences({ inputId: 'mic-2', outputId: null }, storage);
    expect(loadAudioPreferences(storage)).toEqual({ inputId: 'mic-2', outputId: null });
    storage.setItem(AUDIO_PREFERENCES_KEY, '{not json');
    expect(loadAudioPreferences(storage)).toEqual({ inputId: null, outputId: null });
    storage.setItem(AUDIO_PREFERENCES_KEY, JSON.stringify({ inputId: 7, outputId: '' }));
    expect(loadAudioPreferences(storage)).toEqual({ inputId: null, outputId: null });
  });
});

describe('listAudioDevices', () => {
  it('splits microphones from speakers, names unnamed ones, and says whether names are hidden', async () => {
    const hidden = await listAudioDevices(media([info('audioinput', 'a'), info('audiooutput', 'b'), info('videoinput', 'c'), info('audioinput', '')]));
    expect(hidden).toEqual({ inputs: [{ id: 'a', label: 'Microphone 1' }], outputs: [{ id: 'b', label: 'Speaker 1' }], labelled: false });
    const named = await listAudioDevices(media([info('audioinput', 'a', 'Headset mic')]));
    expect(named.inputs).toEqual([{ id: 'a', label: 'Headset mic' }]);
    expect(named.labelled).toBe(true);
  });

  it('a browser without media devices has none', async () => {
    expect(await listAudioDevices(null)).toEqual({ inputs: [], outputs: [], labelled: false });
  });
});

describe('requestMicrophone', () => {
  it('opens the chosen microphone and releases it at once', async () => {
    const stop = vi.fn();
    const getUserMedia = vi.fn(async () => ({ getTracks: () => [{ stop }] }) as unknown as MediaStream);
    expect(await requestMicrophone('mic-2', media([], getUserMedia))).toBeNull();
    expect(getUserMedia).toHaveBeenCalledWith({ audio: { deviceId: { exact: 'mic-2' } } });
    expect(stop).toHaveBeenCalled();
  });

  it('says why in the agent’s words: denied, missing, busy, unavailable', async () => {
    const failing = (name: string) => media([], vi.fn(async () => Promise.reject(new DOMException('x', name))));
    expect(await requestMicrophone(null, failing('NotAllowedError'))).toMatch(/denied/);
    expect(await requestMicrophone(null, failing('NotFoundError'))).toMatch(/No microphone was found/);
    expect(await requestMicrophone('gone', failing('OverconstrainedError'))).toMatch(/chosen microphone is not connected/);
    expect(await requestMicrophone(null, failing('NotReadableError'))).toMatch(/in use/);
    expect(await requestMicrophone(null, null)).toMatch(/no access to a microphone/);
  });
});
