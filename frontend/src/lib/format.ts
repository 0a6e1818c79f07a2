/** `m:ss`, or `h:mm:ss` from an hour. Negative or missing input shows `0:00`. */
export function formatDuration(totalSeconds: number | null | undefined): string {
  const s = Math.max(0, Math.floor(totalSeconds ?? 0));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(sec).padStart(2, '0')}`;
}

/** Seconds from `iso` to `now` (ms), or null when `iso` is missing or unreadable. */
export function secondsSince(iso: string | null | undefined, now: number): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? Math.max(0, Math.floor((now - t) / 1000)) : null;
}

/** Short relative age: "just now", "3 min", "2 h", "4 d". */
export function formatAge(iso: string | null | undefined, now: number): string {
  const s = secondsSince(iso, now);
  if (s === null) return '';
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86_400) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} d`;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const t = Date.parse(iso);
  return Number.isFinite(t) ? timeFormat.format(t) : '—';
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const t = Date.parse(iso);
  return Number.isFinite(t) ? dateTimeFormat.format(t) : '—';
}

/** Spoken-friendly phone number: keeps E.164 as is, strips Twilio's `client:` prefix. */
export function formatPhone(value: string | null | undefined): string {
  if (!value) return 'Unknown caller';
  return value.startsWith('client:') ? value.slice('client:'.length) : value;
}

/** Loose E.164 tidy-up for what an agent types: drop spaces, dashes, dots and brackets. */
export function normalizePhoneInput(value: string): string {
  return value.trim().replace(/[\s().-]/g, '');
}
