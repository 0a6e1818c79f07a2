import { useQuery } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { orThrow, settle, useApi, type ListEntry } from '@/api';
import { ActionButton } from '@/components/ActionButton';
import { ProblemMessage } from '@/components/ProblemMessage';
import { useAction } from '@/lib/use-action';

type ListPath = '/api/dispositions' | '/api/away-reasons';

/** Admins: an editable list of codes (dispositions or away reasons). Entries are deactivated, never deleted. */
export function ListAdminPanel({ title, path, hint, onChanged }: { title: string; path: ListPath; hint: string; onChanged?: () => void }) {
  const api = useApi();
  const id = useId();
  const action = useAction();
  const [code, setCode] = useState('');
  const [label, setLabel] = useState('');
  // Inactive entries too (the public list hook has the active ones only): a key of its own.
  const query = useQuery({
    queryKey: ['admin-list', path],
    queryFn: async ({ signal }) => orThrow(await settle(api.GET(path, { params: { query: { include_inactive: true } }, signal }))),
  });
  const entries: ListEntry[] = query.data ?? [];
  const loadProblem = query.error ?? null;
  const load = async () => {
    await query.refetch();
  };

  async function add(event: FormEvent) {
    event.preventDefault();
    const result = await action.run('add', () => settle(api.POST(path, { body: { code: code.trim(), label } })));
    if (result?.ok) {
      setCode('');
      setLabel('');
      await load();
      onChanged?.();
    }
  }

  async function toggle(entry: ListEntry) {
    const item = path === '/api/dispositions' ? '/api/dispositions/{code}' : '/api/away-reasons/{code}';
    const result = await action.run(`toggle:${entry.code}`, () =>
      settle(api.PATCH(item, { params: { path: { code: entry.code } }, body: { active: !entry.active } })),
    );
    if (result?.ok) {
      await load();
      onChanged?.();
    }
  }

  return (
    <section className="panel admin-form" aria-labelledby={`${id}-title`} data-testid={`list-${path.slice(5)}`}>
      <h2 id={`${id}-title`} className="panel__title">
        {title}
      </h2>
      <p className="field__hint">{hint}</p>
      <ProblemMessage problem={loadProblem} />
      <ul className="code-list" aria-label={title}>
        {entries.map((e) => (
          <li key={e.code} data-code={e.code} className={e.active ? '' : 'muted'}>
            <code>{e.code}</code> {e.label} {!e.active && '(inactive)'}{' '}
            <ActionButton size="small" pending={action.isPending(`toggle:${e.code}`)} disabled={action.pending !== null} onClick={() => void toggle(e)}>
              {e.active ? `Deactivate ${e.label}` : `Reactivate ${e.label}`}
            </ActionButton>
          </li>
        ))}
      </ul>
      <form className="admin-form__grid" onSubmit={(e) => void add(e)} aria-label={`Add to ${title}`}>
        <div className="field">
          <label htmlFor={`${id}-code`}>Code</label>
          <input id={`${id}-code`} value={code} onChange={(e) => setCode(e.target.value)} placeholder="e.g. coaching" autoComplete="off" />
        </div>
        <div className="field">
          <label htmlFor={`${id}-label`}>Label</label>
          <input id={`${id}-label`} value={label} onChange={(e) => setLabel(e.target.value)} placeholder="e.g. Coaching" autoComplete="off" />
        </div>
        <ActionButton type="submit" variant="primary" size="small" pending={action.isPending('add')} pendingLabel="Adding…">
          Add
        </ActionButton>
      </form>
      <ProblemMessage problem={action.problemFor((k) => k === 'add' || k.startsWith('toggle:'))} onDismiss={action.clear} />
    </section>
  );
}
