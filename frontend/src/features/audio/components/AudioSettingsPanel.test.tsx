import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { makeVoiceClient } from '@/testing/fixtures';
import { AUDIO_PREFERENCES_KEY, Phone, PhoneProvider } from '@/voice';
import { AudioSettingsPanel } from './AudioSettingsPanel';

function fakeVoice() {
  return makeVoiceClient({ state: 'unregistered' as const, setAudioDevices: vi.fn(async () => {}) });
}

describe('AudioSettingsPanel', () => {
  it('lists the microphones, keeps the choice in this browser and hands it to the phone', async () => {
    const user = userEvent.setup();
    const voice = fakeVoice();
    render(
      <PhoneProvider phone={new Phone(voice)}>
        <AudioSettingsPanel />
      </PhoneProvider>,
    );
    const panel = screen.getByRole('region', { name: 'Audio settings' });
    const microphone = within(panel).getByLabelText('Microphone');
    await within(panel).findByRole('option', { name: 'Test microphone' });
    await user.selectOptions(microphone, 'mic-1');
    expect(JSON.parse(window.localStorage.getItem(AUDIO_PREFERENCES_KEY)!)).toEqual({ inputId: 'mic-1', outputId: null });
    expect(voice.setAudioDevices).toHaveBeenCalledWith({ inputId: 'mic-1', outputId: null });
  });

  it('without setSinkId the speaker cannot be chosen, and says so; a failed test tone says why', async () => {
    const user = userEvent.setup();
    render(<AudioSettingsPanel />);
    const panel = screen.getByRole('region', { name: 'Audio settings' });
    expect(within(panel).getByLabelText('Speaker')).toBeDisabled();
    expect(within(panel).getByText(/always plays through the system’s default speaker/)).toBeInTheDocument();
    await user.click(within(panel).getByRole('button', { name: 'Play test tone' }));
    expect(await within(panel).findByText('This browser cannot play a test tone.')).toBeInTheDocument();
  });
});
