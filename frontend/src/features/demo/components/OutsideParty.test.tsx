import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { DemoOutsideCall } from '@/api';
import { ApiProvider } from '@/api/provider';
import { LiveEvents, LiveEventsProvider } from '@/live';
import { fakeApi } from '@/testing/fake-backend';
import { jsonResponse } from '@/testing/fixtures';
import { OutsideParty } from './OutsideParty';

const SID = 'CAoutside';

function mount(initial: DemoOutsideCall[]) {
  let calls = initial;
  const actions: unknown[] = [];
  const { api } = fakeApi({
    'GET /api/demo/outside-calls': () => jsonResponse(200, calls),
    'POST /api/demo/outside-calls/:sid': (_r, body) => {
      actions.push(body);
      const action = (body as { action: string }).action;
      calls = action === 'answer' ? calls.map((c) => ({ ...c, status: 'in-progress', heard: ['Transfer from Ana, who is on the line to brief you.'] })) : [];
      return new Response(null, { status: 204 });
    },
  });
  // Never connects: the panel also polls, and refreshes after each action.
  const live = new LiveEvents({ open: () => new Promise(() => {}) });
  render(
    <ApiProvider client={api}>
      <LiveEventsProvider events={live}>
        <OutsideParty />
      </LiveEventsProvider>
    </ApiProvider>,
  );
  return { actions };
}

describe('OutsideParty (demo)', () => {
  it('shows nothing while no outside number rings', async () => {
    mount([]);
    await new Promise((r) => setTimeout(r, 50));
    expect(screen.queryByTestId('outside-party')).toBeNull();
  });

  it('answers the ringing number, shows what it heard, then hangs up as that party', async () => {
    const user = userEvent.setup();
    const { actions } = mount([{ call_sid: SID, call_id: 'c-1', to: '+14155550199', status: 'ringing', heard: [] }]);
    await user.click(await screen.findByRole('button', { name: 'Answer as +14155550199' }));
    expect(await screen.findByTestId('outside-heard')).toHaveTextContent('who is on the line to brief you');
    await user.click(screen.getByRole('button', { name: 'Hang up as +14155550199' }));
    await waitFor(() => expect(screen.queryByTestId('outside-party')).toBeNull());
    expect(actions).toEqual([{ action: 'answer' }, { action: 'hang_up' }]);
  });
});
