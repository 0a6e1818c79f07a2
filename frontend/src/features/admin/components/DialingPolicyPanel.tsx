import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { settle, useApi, type ApiProblem, type DialingPolicy, type UpdateDialingPolicyRequest } from '@/api';
import { ActionButton } from '@/components/ActionButton';
import { ProblemMessage } from '@/components/ProblemMessage';
import { useAction } from '@/lib/use-action';

/** The form's text, as typed: lists are comma- or space-separated. */
interface PolicyForm {
  allowed_country_codes: string;
  allowed_prefixes: string;
  allowed_premium_prefixes: string;
  international_for_agents: boolean;
  max_dials_per_agent_per_hour: string;
  max_dials_per_call: string;
}

type Field = Exclude<keyof PolicyForm, 'international_for_agents'>;

function toForm(p: DialingPolicy): PolicyForm {
  return {
    allowed_country_codes: p.allowed_country_codes.join(', '),
    allowed_prefixes: p.allowed_prefixes.join(', '),
    allowed_premium_prefixes: p.allowed_premium_prefixes.join(', '),
    international_for_agents: p.international_for_agents,
    max_dials_per_agent_per_hour: String(p.max_dials_per_agent_per_hour),
    max_dials_per_call: String(p.max_dials_per_call),
  };
}

function list(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** A whole number as typed, or null (the backend names the field when it is out of range). */
function wholeNumber(text: string): number | null {
  return /^\s*-?\d+\s*$/.test(text) ? Number(text) : null;
}

/**
 * Turns the form into a request, or says which field cannot be sent. Ranges and formats are
 * checked by the server, whose message is shown under the field.
 */
export function toRequest(form: PolicyForm): { body: UpdateDialingPolicyRequest } | { field: Field; message: string } {
  const codes: number[] = [];
  for (const token of list(form.allowed_country_codes)) {
    const code = wholeNumber(token.replace(/^\+/, ''));
    if (code === null || code < 0) return { field: 'allowed_country_codes', message: `${token} is not a country calling code such as 1 or 44` };
    codes.push(code);
  }
  const perAgent = wholeNumber(form.max_dials_per_agent_per_hour);
  if (perAgent === null) return { field: 'max_dials_per_agent_per_hour', message: 'Enter a whole number' };
  const perCall = wholeNumber(form.max_dials_per_call);
  if (perCall === null) return { field: 'max_dials_per_call', message: 'Enter a whole number' };
  return {
    body: {
      allowed_country_codes: codes,
      allowed_prefixes: list(form.allowed_prefixes),
      allowed_premium_prefixes: list(form.allowed_premium_prefixes),
      international_for_agents: form.international_for_agents,
      max_dials_per_agent_per_hour: perAgent,
      max_dials_per_call: perCall,
    },
  };
}

/** Admins: which outside numbers transfers may dial, who may dial abroad, and how often. */
export function DialingPolicyPanel() {
  const api = useApi();
  const id = useId();
  const action = useAction();
  const [policy, setPolicy] = useState<DialingPolicy | null>(null);
  const [form, setForm] = useState<PolicyForm | null>(null);
  const [loadProblem, setLoadProblem] = useState<ApiProblem | null>(null);
  const [localError, setLocalError] = useState<{ field: Field; message: string } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const problem = action.problemFor('save');

  const load = useCallback(async () => {
    const result = await settle(api.GET('/api/dialing-policy'));
    if (result.ok) {
      setPolicy(result.data);
      setForm(toForm(result.data));
      setLoadProblem(null);
    } else {
      setLoadProblem(result.problem);
    }
  }, [api]);

  useEffect(() => {
    void load();
  }, [load]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!form) return;
    setNotice(null);
    const request = toRequest(form);
    if ('field' in request) {
      setLocalError(request);
      return;
    }
    setLocalError(null);
    const result = await action.run('save', () => settle(api.PUT('/api/dialing-policy', { body: request.body })));
    if (result?.ok) {
      setPolicy(result.data);
      setForm(toForm(result.data));
      setNotice('Dialing policy saved. It applies to the next transfer to a phone number.');
    }
  }

  const errorFor = (field: Field): string | null =>
    localError?.field === field ? localError.message : problem?.field === field ? problem.message : null;

  const input = (name: Field, label: string, hint: string, extra: Record<string, unknown> = {}) => {
    const error = errorFor(name);
    const describedBy = [`${id}-${name}-hint`, error ? `${id}-${name}-error` : null].filter(Boolean).join(' ');
    return (
      <div className="field">
        <label htmlFor={`${id}-${name}`}>{label}</label>
        <input
          id={`${id}-${name}`}
          value={form?.[name] ?? ''}
          onChange={(e) => form && setForm({ ...form, [name]: e.target.value })}
          aria-invalid={error ? true : undefined}
          aria-describedby={describedBy}
          autoComplete="off"
          {...extra}
        />
        <p id={`${id}-${name}-hint`} className="field__hint">
          {hint}
        </p>
        {error && (
          <p id={`${id}-${name}-error`} className="field__error">
            {error}
          </p>
        )}
      </div>
    );
  };

  const shownElsewhere = problem?.field && (['allowed_country_codes', 'allowed_prefixes', 'allowed_premium_prefixes', 'max_dials_per_agent_per_hour', 'max_dials_per_call'] as string[]).includes(problem.field);

  return (
    <form className="panel admin-form" onSubmit={(e) => void submit(e)} aria-labelledby={`${id}-title`} data-testid="dialing-policy">
      <h2 id={`${id}-title`} className="panel__title">
        Dialing policy
      </h2>
      <p className="field__hint">
        Which phone numbers transfers may dial. Premium-rate, shared-cost and satellite ranges
        {policy ? ` (${policy.premium_prefixes.join(', ')} and the like)` : ''} are always refused unless listed below as allowed premium ranges.
        {policy && (
          <>
            {' '}
            Our number's country code is +{policy.home_country_code}; other countries are international.
          </>
        )}
      </p>
      {policy?.is_default && (
        <p className="notice" role="status">
          No policy saved yet, so the built-in default applies: numbers in +{policy.home_country_code} only, no premium ranges, at most{' '}
          {policy.max_dials_per_agent_per_hour} dials per agent per hour and {policy.max_dials_per_call} per call.
        </p>
      )}
      <ProblemMessage problem={loadProblem} />
      {form && (
        <>
          <div className="admin-form__grid admin-form__grid--top">
            {input('allowed_country_codes', 'Allowed country codes', 'e.g. 1, 44')}
            {input('allowed_prefixes', 'Also allowed prefixes', 'e.g. +4420 (a range whose country is not allowed)')}
            {input('allowed_premium_prefixes', 'Allowed premium ranges', 'e.g. +1900; only if you really mean it')}
            {input('max_dials_per_agent_per_hour', 'Dials per agent per hour', '0 turns outside dials off', { inputMode: 'numeric' })}
            {input('max_dials_per_call', 'Dials per call', '0 turns outside dials off', { inputMode: 'numeric' })}
          </div>
          <label className="checkbox">
            <input
              type="checkbox"
              checked={form.international_for_agents}
              onChange={(e) => setForm({ ...form, international_for_agents: e.target.checked })}
            />
            Agents may dial international numbers (otherwise admins only)
          </label>
          {problem && (!problem.field || !shownElsewhere) && <ProblemMessage problem={problem} />}
          {notice && (
            <p className="notice" role="status">
              {notice}
            </p>
          )}
          <ActionButton type="submit" variant="primary" pending={action.isPending('save')} pendingLabel="Saving…">
            Save dialing policy
          </ActionButton>
        </>
      )}
    </form>
  );
}
