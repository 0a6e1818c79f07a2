import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { settle, useApi, type ApiProblem, type UpdateWrapUpSettingsRequest, type WrapUpSettings } from '@/api';
import { ActionButton } from '@/components/ActionButton';
import { ProblemMessage } from '@/components/ProblemMessage';
import { useAction } from '@/lib/use-action';

interface SettingsForm {
  wrap_up_seconds: string;
  extension_seconds: string;
  require_disposition: boolean;
}

/** Turns the form into a request, or says which field is not a whole number (the server checks the bounds). */
export function toSettingsRequest(
  form: SettingsForm,
): { body: UpdateWrapUpSettingsRequest } | { field: 'wrap_up_seconds' | 'extension_seconds'; message: string } {
  const whole = (t: string) => (/^\s*\d+\s*$/.test(t) ? Number(t) : null);
  const seconds = whole(form.wrap_up_seconds);
  if (seconds === null) return { field: 'wrap_up_seconds', message: 'Enter a whole number of seconds (0 turns wrap-up off)' };
  const extension = whole(form.extension_seconds);
  if (extension === null) return { field: 'extension_seconds', message: 'Enter a whole number of seconds' };
  return { body: { wrap_up_seconds: seconds, extension_seconds: extension, require_disposition: form.require_disposition } };
}

/** Admins: how long wrap-up lasts, how much longer agents may ask for, and whether a disposition is required. */
export function WrapUpSettingsPanel({ onSaved }: { onSaved?: () => void }) {
  const api = useApi();
  const id = useId();
  const action = useAction();
  const [form, setForm] = useState<SettingsForm | null>(null);
  const [loadProblem, setLoadProblem] = useState<ApiProblem | null>(null);
  const [local, setLocal] = useState<{ field: string; message: string } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const problem = action.problemFor('save');

  const show = (s: WrapUpSettings) =>
    setForm({
      wrap_up_seconds: String(s.wrap_up_seconds),
      extension_seconds: String(s.extension_seconds),
      require_disposition: s.require_disposition,
    });

  const load = useCallback(async () => {
    const result = await settle(api.GET('/api/wrap-up-settings'));
    if (result.ok) show(result.data);
    else setLoadProblem(result.problem);
  }, [api]);

  useEffect(() => {
    void load();
  }, [load]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!form) return;
    setNotice(null);
    const request = toSettingsRequest(form);
    if ('field' in request) {
      setLocal(request);
      return;
    }
    setLocal(null);
    const result = await action.run('save', () => settle(api.PUT('/api/wrap-up-settings', { body: request.body })));
    if (result?.ok) {
      show(result.data);
      setNotice(result.data.wrap_up_seconds === 0 ? 'Saved: wrap-up is off.' : 'Saved. It applies to the next call that ends.');
      onSaved?.();
    }
  }

  const errorFor = (field: string) => (local?.field === field ? local.message : problem?.field === field ? problem.message : null);
  const number = (name: 'wrap_up_seconds' | 'extension_seconds', label: string, hint: string) => {
    const error = errorFor(name);
    return (
      <div className="field">
        <label htmlFor={`${id}-${name}`}>{label}</label>
        <input
          id={`${id}-${name}`}
          inputMode="numeric"
          value={form?.[name] ?? ''}
          onChange={(e) => form && setForm({ ...form, [name]: e.target.value })}
          aria-invalid={error ? true : undefined}
          aria-describedby={`${id}-${name}-hint`}
        />
        <p id={`${id}-${name}-hint`} className="field__hint">
          {hint}
        </p>
        {error && <p className="field__error">{error}</p>}
      </div>
    );
  };

  return (
    <form className="panel admin-form" onSubmit={(e) => void submit(e)} aria-labelledby={`${id}-title`} data-testid="wrap-up-settings">
      <h2 id={`${id}-title`} className="panel__title">
        Wrap-up
      </h2>
      <ProblemMessage problem={loadProblem} />
      {form && (
        <>
          <div className="admin-form__grid admin-form__grid--top">
            {number('wrap_up_seconds', 'Wrap-up seconds', '0-1800; 0 turns wrap-up off')}
            {number('extension_seconds', 'Extension seconds', 'How much longer an agent may ask for, once; 0: no extension')}
          </div>
          <label className="checkbox">
            <input
              type="checkbox"
              checked={form.require_disposition}
              onChange={(e) => setForm({ ...form, require_disposition: e.target.checked })}
            />
            Require a disposition before the agent is available again (wrap-up lasts until one is filed)
          </label>
          {problem && !problem.field && <ProblemMessage problem={problem} />}
          {notice && (
            <p className="notice" role="status">
              {notice}
            </p>
          )}
          <ActionButton type="submit" variant="primary" pending={action.isPending('save')} pendingLabel="Saving…">
            Save wrap-up settings
          </ActionButton>
        </>
      )}
    </form>
  );
}
