import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import type { CreateTransferRequest, Transfer } from '@/api';
import type { Phone } from '@/voice';
import { makeAgent, makeCall, makeParticipant } from '@/testing/fixtures';
import { IncomingCall } from './IncomingCall';
import { ActiveTransfer, TransferForm } from './TransferSection';

const ME = makeAgent({ id: 'a-me', display_name: 'Me', status: 'busy' });
const ANA = makeAgent({ id: 'a-ana', display_name: 'Ana', status: 'busy' });
const BEN = makeAgent({ id: 'a-ben', display_name: 'Ben', status: 'available', client_identity: 'ben' });
const team = [ME, ANA, BEN];

function transfer(overrides: Partial<Transfer> = {}): Transfer {
  return {
    id: 't-1',
    call_id: 'c-1',
    mode: 'warm',
    status: 'dialing',
    from_agent_id: ANA.id,
    to_agent_id: ME.id,
    to_number: null,
    target_participant_id: 'p-me',
    created_at: '2026-01-01T09:01:00Z',
    answered_at: null,
    ended_at: null,
    note: null,
    end_reason: null,
    ended_by: null,
    requeued: false,
    ...overrides,
  };
}

describe('TransferForm', () => {
  function mount() {
    const onSubmit = vi.fn<(body: CreateTransferRequest) => void>();
    const onQueue = vi.fn();
    render(<TransferForm meId={ME.id} team={team} pending={false} disabled={false} problem={null} onSubmit={onSubmit} onQueue={onQueue} />);
    return { onSubmit, onQueue };
  }

  it('sends the handover note with the transfer, trimmed', async () => {
    const user = userEvent.setup();
    const { onSubmit } = mount();
    await user.click(screen.getByRole('radio', { name: /Ben/ }));
    await user.type(screen.getByLabelText(/Note for the target/), '  Wants a refund  ');
    await user.click(screen.getByRole('button', { name: 'Start warm transfer' }));
    expect(onSubmit).toHaveBeenCalledWith({ mode: 'warm', target: { agent_id: BEN.id }, hold_customer: true, note: 'Wants a refund' });
  });

  it('refuses a note over 500 characters before sending it', async () => {
    const user = userEvent.setup();
    const { onSubmit } = mount();
    await user.click(screen.getByRole('radio', { name: /Ben/ }));
    const note = screen.getByLabelText(/Note for the target/);
    await user.click(note);
    await user.paste('x'.repeat(501));
    expect(screen.getByRole('alert').textContent).toMatch(/1 characters too long/);
    expect(screen.getByRole('button', { name: 'Start warm transfer' })).toBeDisabled();
    expect(onSubmit).not.toHaveBeenCalled();
  });

  it('shows the server refusing the note next to the field', () => {
    render(
      <TransferForm
        meId={ME.id}
        team={team}
        pending={false}
        disabled={false}
        problem={{ code: 'bad_request', message: 'note: must not contain control characters', status: 400, field: 'note' }}
        onSubmit={() => {}}
        onQueue={() => {}}
      />,
    );
    expect(screen.getByText('note: must not contain control characters')).toBeInTheDocument();
  });

  it('offers the queue as a target, with no note or mode to choose', async () => {
    const user = userEvent.setup();
    const { onSubmit, onQueue } = mount();
    await user.click(screen.getByRole('radio', { name: 'Back to the queue' }));
    expect(screen.queryByLabelText(/Note for the target/)).toBeNull();
    expect(screen.getByText(/ahead of newer callers/)).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Send to the queue' }));
    expect(onQueue).toHaveBeenCalledTimes(1);
    expect(onSubmit).not.toHaveBeenCalled();
  });
});

describe('ActiveTransfer (the sender)', () => {
  it('says ringing until the target answers, then talking', () => {
    const call = makeCall();
    const outgoing = transfer({ from_agent_id: ME.id, to_agent_id: BEN.id });
    const props = { call, customer: null, meId: ME.id, team, canControl: true, pending: null, problem: null, onComplete: () => {}, onCancel: () => {} };
    const { rerender } = render(<ActiveTransfer transfer={outgoing} {...props} />);
    expect(screen.getByTestId('transfer-progress').textContent).toBe('Ringing Ben…');
    rerender(<ActiveTransfer transfer={{ ...outgoing, status: 'consulting' }} {...props} />);
    expect(screen.getByTestId('transfer-progress').textContent).toBe('Talking to Ben');
  });
});

describe('IncomingCall (the target)', () => {
  const phone = { accept: vi.fn(), reject: vi.fn() } as unknown as Phone;
  const ringing = {
    phase: 'ringing' as const,
    call: { callSid: 'CAleg', from: '+15005550006', to: 'client:me', parameters: {} },
    since: Date.now(),
    answering: false,
    error: null,
    waiting: null,
  };

  function mount(t: Transfer) {
    const call = makeCall({
      transfers: [t],
      participants: [makeParticipant(), makeParticipant({ id: 'p-me', kind: 'agent', agent_id: ME.id, call_sid: 'CAleg', status: 'ringing' })],
    });
    render(<IncomingCall ringing={ringing} call={call} meId={ME.id} team={team} phone={phone} ringtoneBlocked={false} autoFocus={false} />);
    return screen.getByRole('region', { name: 'Incoming call' });
  }

  it('shows the handover note while it rings', () => {
    const card = mount(transfer({ note: 'Wants a refund' }));
    expect(within(card).getByTestId('handover-note').textContent).toBe('Note from Ana: Wants a refund');
  });

  it('says a cold transfer comes from an agent who has already left', () => {
    const card = mount(transfer({ mode: 'cold' }));
    const detail = within(card).getByTestId('incoming-transfer-detail').textContent ?? '';
    expect(detail).toMatch(/Ana, who has already left the call/);
    expect(detail).not.toMatch(/stay/);
  });

  it('says a warm transfer comes from an agent who is still on the line', () => {
    const card = mount(transfer({ mode: 'warm' }));
    expect(within(card).getByTestId('incoming-transfer-detail').textContent).toMatch(/Ana, who stays on the line/);
  });
});
