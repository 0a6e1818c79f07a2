import { useEffect, useId, useRef, useState, type KeyboardEvent as ReactKeyboardEvent } from 'react';
import { SHORTCUT_KEYS, SHORTCUTS, shortcutFor } from '../shortcuts';

/** The enabled control on the page that carries `key`; a checked radio is preferred (transfer). */
function controlFor(key: string): HTMLElement | null {
  const candidates = [...document.querySelectorAll<HTMLElement>(`[aria-keyshortcuts="${CSS.escape(key)}"]`)].filter(
    (el) => !el.matches(':disabled') && !el.closest('[hidden], [inert], [role="dialog"]'),
  );
  return candidates.find((el) => el.matches(':checked')) ?? candidates[0] ?? null;
}

/**
 * Page-wide keyboard shortcuts for the call controls (see `shortcuts.ts`), and the help dialog
 * that lists them (`?`, or the header button). Keys typed into a field are left alone.
 */
export function CallShortcuts() {
  const [helpOpen, setHelpOpen] = useState(false);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.defaultPrevented) return;
      // The dialog handles its own keys (Escape, Tab).
      if (document.querySelector('[data-shortcut-help]')) return;
      const shortcut = shortcutFor(event);
      if (!shortcut) return;
      if (shortcut.id === 'help') {
        event.preventDefault();
        setHelpOpen(true);
        return;
      }
      const control = controlFor(shortcut.key);
      if (!control) return;
      event.preventDefault();
      if (control instanceof HTMLButtonElement) control.click();
      else control.focus();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);

  return (
    <>
      <button
        type="button"
        className="button button--ghost button--small shortcuts-button"
        aria-keyshortcuts={SHORTCUT_KEYS.help}
        aria-haspopup="dialog"
        title="Keyboard shortcuts (?)"
        onClick={() => setHelpOpen(true)}
      >
        Keyboard shortcuts <kbd aria-hidden="true">?</kbd>
      </button>
      {helpOpen && <ShortcutHelp onClose={() => setHelpOpen(false)} />}
    </>
  );
}

const FOCUSABLE = 'button:not(:disabled), [href], input:not(:disabled), select:not(:disabled), textarea:not(:disabled), [tabindex]:not([tabindex="-1"])';

/** A modal dialog: focus moves in and stays in (Tab cycles), Escape closes, focus goes back. */
function ShortcutHelp({ onClose }: { onClose: () => void }) {
  const id = useId();
  const dialog = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const before = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    dialog.current?.querySelector<HTMLElement>(FOCUSABLE)?.focus();
    return () => before?.focus();
  }, []);

  function onKeyDown(event: ReactKeyboardEvent<HTMLDivElement>) {
    if (event.key === 'Escape') {
      event.preventDefault();
      onClose();
      return;
    }
    if (event.key !== 'Tab' || !dialog.current) return;
    const focusable = [...dialog.current.querySelectorAll<HTMLElement>(FOCUSABLE)];
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (!first || !last) return;
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  }

  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div
        ref={dialog}
        className="modal"
        role="dialog"
        aria-modal="true"
        aria-labelledby={`${id}-title`}
        data-shortcut-help=""
        onKeyDown={onKeyDown}
      >
        <h2 id={`${id}-title`} className="modal__title">
          Keyboard shortcuts
        </h2>
        <p className="muted">They work anywhere on the page except while you type in a field.</p>
        <dl className="shortcut-list">
          {SHORTCUTS.map((s) => (
            <div key={s.id} className="shortcut-list__row">
              <dt>
                <kbd>{s.key}</kbd>
              </dt>
              <dd>{s.description}</dd>
            </div>
          ))}
          <div className="shortcut-list__row">
            <dt>
              <kbd>Esc</kbd>
            </dt>
            <dd>Close this list</dd>
          </div>
        </dl>
        <button type="button" className="button button--primary" onClick={onClose}>
          Close
        </button>
      </div>
    </div>
  );
}
