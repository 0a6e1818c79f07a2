import { render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { makeCall, makeParticipant } from '@/testing/fixtures';
import { ParticipantList } from './ParticipantList';

const noop = () => {};

describe('ParticipantList', () => {
  it('offers no hold, mute or remove on a supervisor listening in (their mode decides), but does on the customer', () => {
    const customer = makeParticipant({ id: 'p-customer' });
    const me = makeParticipant({ id: 'p-me', kind: 'agent', agent_id: 'me', display_name: 'Me', phone: null, call_sid: 'CAme' });
    const sue = makeParticipant({ id: 'p-sue', kind: 'supervisor', agent_id: 'sue', display_name: 'Sue', phone: null, call_sid: 'CAsue', monitor_mode: 'whisper' });
    render(
      <ParticipantList
        call={makeCall({ participants: [customer, me, sue] })}
        meId="me"
        canControl
        canRemove
        pending={null}
        onHold={noop}
        onMute={noop}
        onRemove={noop}
      />,
    );
    const rows = screen.getAllByRole('listitem');
    const row = (kind: string) => rows.find((r) => r.dataset.participantKind === kind)!;
    expect(within(row('supervisor')).queryAllByRole('button')).toEqual([]);
    expect(within(row('customer')).getByRole('button', { name: /^Hold/ })).toBeInTheDocument();
  });
});
