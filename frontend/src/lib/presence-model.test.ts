import { describe, expect, it } from 'vitest';
import {
  awayReasonLabel,
  formatCountdown,
  MAX_NOTES,
  missedCallNotice,
  notesProblem,
  wrapUpControls,
  wrapUpSecondsLeft,
} from './presence-model';

const NOW = Date.parse('2026-11-30T12:00:00Z');
const at = (s: number) => new Date(NOW + s * 1000).toISOString();
const wrapping = (until: string | null, extended = false) => ({
  status: 'wrap_up' as const,
  wrap_up: { call_id: 'c1', until, extended },
});
const settings = (require_disposition: boolean, extension_seconds = 60) => ({ require_disposition, extension_seconds });

describe('wrap-up countdown', () => {
  it('counts whole seconds down to zero and never below', () => {
    expect(wrapUpSecondsLeft(wrapping(at(30)), NOW)).toBe(30);
    expect(wrapUpSecondsLeft(wrapping(at(30)), NOW + 29_500)).toBe(1);
    expect(wrapUpSecondsLeft(wrapping(at(30)), NOW + 31_000)).toBe(0);
  });
  it('has no countdown outside wrap-up or for an untimed wrap-up', () => {
    expect(wrapUpSecondsLeft({ status: 'available', wrap_up: null }, NOW)).toBeNull();
    expect(wrapUpSecondsLeft(wrapping(null), NOW)).toBeNull();
  });
  it('formats minutes and seconds', () => {
    expect(formatCountdown(65)).toBe('1:05');
    expect(formatCountdown(9)).toBe('0:09');
    expect(formatCountdown(-3)).toBe('0:00');
  });
});

describe('wrap-up controls', () => {
  it('blocks Finish while a required disposition is missing, and says so once time is up', () => {
    const c = wrapUpControls(wrapping(at(-1)), settings(true), false, NOW);
    expect(c.finishBlocked).toMatch(/disposition/);
    expect(c.message).toMatch(/choose a disposition/);
    expect(wrapUpControls(wrapping(at(-1)), settings(true), true, NOW).finishBlocked).toBeNull();
    expect(wrapUpControls(wrapping(at(10)), settings(false), false, NOW).finishBlocked).toBeNull();
  });
  it('offers Extend once, only for a timed wrap-up with extensions on', () => {
    expect(wrapUpControls(wrapping(at(10)), settings(false), false, NOW).canExtend).toBe(true);
    expect(wrapUpControls(wrapping(at(10), true), settings(false), false, NOW).canExtend).toBe(false);
    expect(wrapUpControls(wrapping(at(10)), settings(false, 0), false, NOW).canExtend).toBe(false);
    expect(wrapUpControls(wrapping(null), settings(false), false, NOW).canExtend).toBe(false);
    expect(wrapUpControls({ status: 'available', wrap_up: null }, settings(false), false, NOW).canExtend).toBe(false);
  });
  it('tells the time left', () => {
    expect(wrapUpControls(wrapping(at(75)), settings(false), false, NOW).message).toBe(
      'Wrap-up: 1:15 left, then you are available again.',
    );
  });
});

describe('missed-call notice', () => {
  it('tells an agent the system set away why, with the caller', () => {
    const missed = { status: 'away' as const, away_reason: 'missed_call', missed_call: { from_number: '+15551230001' } };
    expect(missedCallNotice(missed)).toMatch(/^You missed a call from .*; you are Away\. Go available\?$/);
    expect(missedCallNotice({ ...missed, away_reason: 'declined_call' })).toMatch(/^You declined a call from/);
  });
  it('says nothing to an agent who chose to be away, or is no longer away', () => {
    expect(missedCallNotice({ status: 'away', away_reason: 'lunch', missed_call: null })).toBeNull();
    expect(
      missedCallNotice({ status: 'available', away_reason: null, missed_call: { from_number: '+15551230001' } }),
    ).toBeNull();
  });
});

describe('away reasons and notes', () => {
  const reasons = [{ code: 'lunch', label: 'Lunch', active: true }];
  it('labels admin and system reasons', () => {
    expect(awayReasonLabel('lunch', reasons)).toBe('Lunch');
    expect(awayReasonLabel('missed_call', reasons)).toBe('Missed a call');
    expect(awayReasonLabel('gone_fishing', reasons)).toBe('gone_fishing');
    expect(awayReasonLabel(null, reasons)).toBeNull();
  });
  it('refuses notes the server would refuse', () => {
    expect(notesProblem('line one\nline two\tok')).toBeNull();
    expect(notesProblem('x'.repeat(MAX_NOTES))).toBeNull();
    expect(notesProblem('x'.repeat(MAX_NOTES + 1))).toMatch(/at most 2000/);
    expect(notesProblem('bell\u0007')).toMatch(/control characters/);
  });
});
