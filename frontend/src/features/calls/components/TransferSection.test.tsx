import { cleanup, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import type { CallDetail, CreateTransferRequest, Transfer } from '@/api';
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

  it('offers the queue as a target, with no mode to choose and a note for the next agent', async () => {
    const user = userEvent.setup();
    const { onSubmit, onQueue } = mount();
    await user.click(screen.getByRole('radio', { name: 'Back to the queue' }));
    expect(screen.queryByLabelText(/Note for the target/)).toBeNull();
    expect(screen.getByText(/ahead of newer callers/)).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Send to the queue' }));
    expect(onQueue).toHaveBeenLastCalledWith(undefined);

    await user.type(screen.getByLabelText('Note for the next agent (optional)'), '  Wants the billing team ');
    expect(screen.getByText(/Shown to whoever takes the call next/)).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Send to the queue' }));
    expect(onQueue).toHaveBeenLastCalledWith('Wants the billing team');
    expect(onSubmit).not.toHaveBeenCalled();
  });

  it('refuses a note for the next agent over 500 characters before sending it', async () => {
    const user = userEvent.setup();
    const { onQueue } = mount();
    await user.click(screen.getByRole('radio', { name: 'Back to the queue' }));
    const field = screen.getByLabelText('Note for the next agent (optional)');
    await user.click(field);
    await user.paste('x'.repeat(501));
    expect(field).toHaveAttribute('aria-invalid', 'true');
    expect(screen.getByRole('button', { name: 'Send to the queue' })).toBeDisabled();
    expect(onQueue).not.toHaveBeenCalled();
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

  function mount(t: Transfer | null, timeline: CallDetail['timeline'] = []) {
    const call = makeCall({
      transfers: t ? [t] : [],
      timeline,
      participants: [makeParticipant(), makeParticipant({ id: 'p-me', kind: 'agent', agent_id: ME.id, call_sid: 'CAleg', status: 'ringing' })],
    });
    render(<IncomingCall ringing={ringing} call={call} meId={ME.id} team={team} phone={phone} ringtoneBlocked={false} autoFocus={false} />);
    return screen.getByRole('region', { name: 'Incoming call' });
  }

  it('shows the handover note while it rings', () => {
    const card = mount(transfer({ note: 'Wants a refund' }));
    expect(within(card).getByTestId('handover-note').textContent).toBe('Note from Ana: Wants a refund');
  });

  it('ringing from the queue: shows the note the last agent left with the queue', () => {
    const sentBack = (note?: string) => [{ id: 1, at: '2026-01-01T09:02:00Z', kind: 'transferred_to_queue' as const, data: { by: ANA.id, ...(note ? { note } : {}) } }];
    const card = mount(null, sentBack('Wants the billing team'));
    expect(within(card).getByText('Incoming call')).toBeInTheDocument();
    expect(within(card).getByTestId('handover-note').textContent).toBe('Note from Ana, who sent the call back to the queue: Wants the billing team');
    cleanup();
    expect(within(mount(null, sentBack())).queryByTestId('handover-note')).toBeNull();
  });

  it('ringing as a transfer target: only that transfer’s note, not one left with the queue before', () => {
    const earlier = [{ id: 1, at: '2026-01-01T08:00:00Z', kind: 'transferred_to_queue' as const, data: { by: ANA.id, note: 'old news' } }];
    expect(within(mount(transfer({ note: null }), earlier)).queryByTestId('handover-note')).toBeNull();
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
