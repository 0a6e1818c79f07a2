import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { makeCall, makeVoiceClient } from '@/testing/fixtures';
import { Phone, PhoneProvider, type VoiceClient } from '@/voice';
import { ReloadedCallNotice } from './ReloadedCallNotice';

function voice(kind: 'live' | 'demo', resume?: VoiceClient['resume']): VoiceClient {
  return makeVoiceClient({ kind, ...(resume ? { resume } : {}) });
}

const call = makeCall({ from_number: '+15551230001' });

describe('ReloadedCallNotice', () => {
  it('live (the Voice SDK hung up with the page): says the caller hears hold music and this browser rings again, with nothing to click', () => {
    render(
      <PhoneProvider phone={new Phone(voice('live'))}>
        <ReloadedCallNotice callSid="CAada" call={call} customerOnHold={false} />
      </PhoneProvider>,
    );
    const notice = screen.getByTestId('reloaded-call');
    expect(notice).toHaveTextContent('Your call is still going.');
    expect(notice).toHaveTextContent(/hung up this browser’s audio, so \+15551230001 will hear hold music/);
    expect(notice).toHaveTextContent('This browser rings again as soon as the line drop is seen: answer it to take the call back.');
    expect(within(notice).queryByRole('button')).toBeNull();
  });

  it('demo (the leg outlived the page): reconnects the audio here, and says why when it cannot', async () => {
    const user = userEvent.setup();
    const resume = vi.fn<NonNullable<VoiceClient['resume']>>().mockRejectedValueOnce(new Error('the call ended meanwhile'));
    render(
      <PhoneProvider phone={new Phone(voice('demo', resume))}>
        <ReloadedCallNotice callSid="CAada" call={call} customerOnHold />
      </PhoneProvider>,
    );
    const notice = screen.getByTestId('reloaded-call');
    expect(notice).toHaveTextContent('+15551230001 is on hold');
    await user.click(within(notice).getByRole('button', { name: 'Reconnect audio' }));
    expect(resume).toHaveBeenCalledWith(expect.objectContaining({ callSid: 'CAada', parameters: { call_id: call.id } }));
    expect(await within(notice).findByRole('alert')).toHaveTextContent(/./);
    resume.mockResolvedValueOnce(undefined);
    await user.click(within(notice).getByRole('button', { name: 'Reconnect audio' }));
    await waitFor(() => expect(within(notice).queryByRole('alert')).toBeNull());
  });
});
