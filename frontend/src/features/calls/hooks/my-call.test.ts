import { describe, expect, it } from 'vitest';
import { makeCall } from '@/testing/fixtures';
import { isHeldLeg } from './my-call';

describe('isHeldLeg (the leg a tab held before a reload)', () => {
  const call = makeCall({});
  it('matches by the leg sid when the server has recorded it', () => {
    expect(isHeldLeg({ callSid: 'CA1', callId: null }, call, { call_sid: 'CA1' })).toBe(true);
    expect(isHeldLeg({ callSid: 'CA1', callId: call.id }, call, { call_sid: 'CA2' })).toBe(false);
  });
  it('without a recorded sid, matches the same call only', () => {
    expect(isHeldLeg({ callSid: 'CA1', callId: call.id }, call, { call_sid: null })).toBe(true);
    expect(isHeldLeg({ callSid: 'CA1', callId: 'another-call' }, call, { call_sid: null })).toBe(false);
    expect(isHeldLeg({ callSid: 'CA1', callId: null }, call, { call_sid: null })).toBe(false);
  });
});
