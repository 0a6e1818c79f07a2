import { useEffect, useId, useState, type FormEvent } from 'react';
import { settle, useApi, type Disposition, type ListEntry } from '@/api';
import { ActionButton } from '@/components/ActionButton';
import { ProblemMessage } from '@/components/ProblemMessage';
import { MAX_NOTES, notesProblem } from '@/lib/presence-model';
import { useAction } from '@/lib/use-action';

interface DispositionFormProps {
  callId: string;
  dispositions: readonly ListEntry[];
  /** What is filed already, if anything. */
  filed: Disposition | null;
  onSaved: (filed: Disposition) => void;
}

/** The call's disposition (from the admin list) and free-text notes, during the call or wrap-up. */
export function DispositionForm({ callId, dispositions, filed, onSaved }: DispositionFormProps) {
  const api = useApi();
  const id = useId();
  const action = useAction();
  const [code, setCode] = useState(filed?.code ?? '');
  const [notes, setNotes] = useState(filed?.notes ?? '');
  const [saved, setSaved] = useState(false);
  const [local, setLocal] = useState<string | null>(null);

  useEffect(() => {
    setCode(filed?.code ?? '');
    setNotes(filed?.notes ?? '');
  }, [filed?.code, filed?.notes]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setSaved(false);
    const problem = notesProblem(notes);
    setLocal(problem);
    if (problem) return;
    const result = await action.run('save', () =>
      settle(api.PUT('/api/calls/{id}/disposition', { params: { path: { id: callId } }, body: { code: code || null, notes: notes || null } })),
    );
    if (result?.ok) {
      setSaved(true);
      onSaved(result.data);
    }
  }

  return (
    <form className="disposition-form" aria-label="Disposition and notes" onSubmit={(e) => void submit(e)}>
      <label htmlFor={`${id}-code`}>Disposition</label>
      <select id={`${id}-code`} value={code} onChange={(e) => setCode(e.target.value)}>
        <option value="">Choose…</option>
        {dispositions.map((d) => (
          <option key={d.code} value={d.code}>
            {d.label}
          </option>
        ))}
        {filed?.code && !dispositions.some((d) => d.code === filed.code) && <option value={filed.code}>{filed.label ?? filed.code}</option>}
      </select>
      <label htmlFor={`${id}-notes`}>Notes</label>
      <textarea
        id={`${id}-notes`}
        rows={3}
        maxLength={MAX_NOTES}
        value={notes}
        onChange={(e) => setNotes(e.target.value)}
        aria-describedby={`${id}-notes-hint`}
      />
      <span id={`${id}-notes-hint`} className="muted">
        {[...notes].length} / {MAX_NOTES}
      </span>
      {local && (
        <p className="problem" role="alert">
          {local}
        </p>
      )}
      <div>
        <ActionButton type="submit" variant="primary" size="small" pending={action.isPending('save')} pendingLabel="Saving…">
          Save disposition
        </ActionButton>
        {saved && (
          <span className="muted" role="status">
            {' '}
            Saved.
          </span>
        )}
      </div>
      <ProblemMessage problem={action.problemFor('save')} onDismiss={action.clear} />
    </form>
  );
}
