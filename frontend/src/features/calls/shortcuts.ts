/**
 * Keyboard shortcuts for the call controls. Each control that has one carries
 * `aria-keyshortcuts` (so assistive technology announces it), and the key press is resolved to
 * the control on the page by that attribute: the shortcut does exactly what the button does.
 */
export type ShortcutId = 'answer' | 'reject' | 'hangup' | 'leave' | 'hold' | 'mute' | 'transfer' | 'help';

export interface Shortcut {
  id: ShortcutId;
  /** The `aria-keyshortcuts` value and what the help lists. */
  key: string;
  description: string;
}

export const SHORTCUTS: readonly Shortcut[] = [
  { id: 'answer', key: 'A', description: 'Answer the ringing call' },
  { id: 'reject', key: 'R', description: 'Reject the ringing call' },
  { id: 'hangup', key: 'E', description: 'End (hang up) the call' },
  { id: 'leave', key: 'L', description: 'Leave the call (asks first when you are the only agent on it)' },
  { id: 'hold', key: 'H', description: 'Hold or resume the customer' },
  { id: 'mute', key: 'M', description: 'Mute or unmute yourself' },
  { id: 'transfer', key: 'T', description: 'Go to the transfer target list' },
  { id: 'help', key: '?', description: 'Show these shortcuts' },
];

export const SHORTCUT_KEYS: Record<ShortcutId, string> = Object.fromEntries(SHORTCUTS.map((s) => [s.id, s.key])) as Record<
  ShortcutId,
  string
>;

/** Input types where a letter is text, not a command. */
const TEXT_INPUTS = new Set(['text', 'search', 'email', 'tel', 'url', 'password', 'number', 'date', 'datetime-local', 'month', 'time', 'week']);

/** Whether key presses on `target` are typing (a text field, a text area, a list box, editable content). */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (!target || typeof (target as Element).tagName !== 'string') return false;
  const element = target as HTMLElement;
  const tag = element.tagName.toLowerCase();
  if (tag === 'textarea' || tag === 'select') return true;
  if (tag === 'input') return TEXT_INPUTS.has(((element as HTMLInputElement).type || 'text').toLowerCase());
  return element.isContentEditable === true || element.getAttribute('contenteditable') === 'true';
}

export interface KeyPress {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  repeat?: boolean;
  target: EventTarget | null;
}

/** The shortcut a key press asks for, or null (typing, a modified key, a held-down key). */
export function shortcutFor(event: KeyPress): Shortcut | null {
  if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return null;
  if (isTypingTarget(event.target)) return null;
  const key = event.key.length === 1 ? event.key.toUpperCase() : event.key;
  return SHORTCUTS.find((s) => s.key === key) ?? null;
}
