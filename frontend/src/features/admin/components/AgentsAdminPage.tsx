import { useId, useState, type FormEvent } from 'react';
import { settle, useApi, type AgentView, type ApiProblem, type CreateAgentRequest, type Role, type UpdateAgentRequest } from '@/api';
import { ActionButton } from '@/components/ActionButton';
import { ProblemMessage } from '@/components/ProblemMessage';
import { StatusDot } from '@/components/StatusDot';
import { ROLE_LABELS, ROLES, STATUS_LABELS } from '@/lib/agent-status';
import { useAction } from '@/lib/use-action';
import { DialingPolicyPanel } from './DialingPolicyPanel';
import { ListAdminPanel } from './ListAdminPanel';
import { WrapUpSettingsPanel } from './WrapUpSettingsPanel';

interface AgentsAdminPageProps {
  me: AgentView;
  /** Everyone, deactivated included (live). */
  agents: AgentView[];
  loading: boolean;
  problem: ApiProblem | null;
  reload: () => void;
  /** The wrap-up settings or a list changed (the dashboard's copies reload). */
  onListsChanged?: () => void;
}

/** Admins: add agents, change name / role / password, deactivate and reactivate. */
export function AgentsAdminPage({ me, agents, loading, problem, reload, onListsChanged }: AgentsAdminPageProps) {
  const [editing, setEditing] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const sorted = agents.slice().sort((a, b) => Number(b.active) - Number(a.active) || a.display_name.localeCompare(b.display_name));

  if (me.role !== 'admin') {
    return (
      <div>
        <h1 className="page-title">Agents</h1>
        <p className="problem" role="alert">
          Only admins can manage agents.
        </p>
      </div>
    );
  }

  return (
    <div className="admin">
      <h1 className="page-title">Agents</h1>
      {notice && (
        <p className="notice" role="status">
          {notice}{' '}
          <button type="button" className="link-button" onClick={() => setNotice(null)}>
            Dismiss
          </button>
        </p>
      )}
      <CreateAgentForm
        onCreated={(agent) => {
          setNotice(`Added ${agent.display_name}. They can sign in with ${agent.email}.`);
          reload();
        }}
      />
      <ProblemMessage problem={problem} />
      <section className="panel table-panel" aria-labelledby="agents-title">
        <h2 id="agents-title" className="panel__title">
          Team ({loading ? '…' : sorted.length})
        </h2>
        <div className="table-scroll">
          <table className="table" aria-labelledby="agents-title">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Status</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {sorted.map((agent) =>
                editing === agent.id ? (
                  <tr key={agent.id}>
                    <td colSpan={5}>
                      <EditAgentForm
                        agent={agent}
                        onDone={(changed) => {
                          setEditing(null);
                          if (changed) {
                            setNotice(`Saved ${changed.display_name}.`);
                            reload();
                          }
                        }}
                      />
                    </td>
                  </tr>
                ) : (
                  <AgentRow
                    key={agent.id}
                    agent={agent}
                    isMe={agent.id === me.id}
                    onEdit={() => setEditing(agent.id)}
                    onChanged={(message) => {
                      setNotice(message);
                      reload();
                    }}
                  />
                ),
              )}
            </tbody>
          </table>
        </div>
      </section>
      <DialingPolicyPanel />
      <WrapUpSettingsPanel onSaved={onListsChanged} />
      <ListAdminPanel
        title="Dispositions"
        path="/api/dispositions"
        hint="The codes agents file calls under. Deactivated codes can no longer be picked; calls filed under them keep them."
        onChanged={onListsChanged}
      />
      <ListAdminPanel
        title="Away reasons"
        path="/api/away-reasons"
        hint="What agents pick when they go Away. Missed call and Declined call are the system's own and not listed here."
        onChanged={onListsChanged}
      />
    </div>
  );
}

function AgentRow({ agent, isMe, onEdit, onChanged }: { agent: AgentView; isMe: boolean; onEdit: () => void; onChanged: (message: string) => void }) {
  const api = useApi();
  const action = useAction();
  const [confirming, setConfirming] = useState(false);

  async function deactivate() {
    const result = await action.run('deactivate', () => settle(api.DELETE('/api/agents/{id}', { params: { path: { id: agent.id } } })));
    setConfirming(false);
    if (result?.ok) onChanged(`Deactivated ${agent.display_name}. They are signed out and get no more calls.`);
  }
  async function unlock() {
    const result = await action.run('unlock', () => settle(api.POST('/api/agents/{id}/unlock', { params: { path: { id: agent.id } } })));
    if (result?.ok) onChanged(`Cleared ${agent.display_name}'s failed sign-ins: they can sign in again at once, from anywhere.`);
  }
  async function reactivate() {
    const result = await action.run('reactivate', () =>
      settle(api.PATCH('/api/agents/{id}', { params: { path: { id: agent.id } }, body: { active: true } })),
    );
    if (result?.ok) onChanged(`Reactivated ${agent.display_name}.`);
  }

  return (
    <tr className={agent.active ? '' : 'row--inactive'} data-agent-id={agent.id}>
      <td>
        {agent.display_name}
        {isMe && <span className="muted"> (you)</span>}
      </td>
      <td className="break">{agent.email}</td>
      <td>{ROLE_LABELS[agent.role]}</td>
      <td>
        {agent.active ? (
          <>
            <StatusDot status={agent.status} /> {STATUS_LABELS[agent.status]}
          </>
        ) : (
          <span className="badge badge--neutral">Deactivated</span>
        )}
      </td>
      <td>
        <div className="row-actions">
          <button type="button" className="button button--ghost button--small" onClick={onEdit} aria-label={`Edit ${agent.display_name}`}>
            Edit
          </button>
          {agent.active && (
            <ActionButton
              size="small"
              variant="ghost"
              pending={action.isPending('unlock')}
              pendingLabel="Unlocking…"
              onClick={() => void unlock()}
              aria-label={`Unlock sign-in for ${agent.display_name}`}
            >
              Unlock sign-in
            </ActionButton>
          )}
          {agent.active ? (
            confirming ? (
              <>
                <ActionButton size="small" variant="danger" pending={action.isPending('deactivate')} pendingLabel="Deactivating…" onClick={() => void deactivate()}>
                  Confirm deactivation
                </ActionButton>
                <button type="button" className="button button--ghost button--small" onClick={() => setConfirming(false)}>
                  Keep
                </button>
              </>
            ) : (
              <button
                type="button"
                className="button button--ghost button--small"
                onClick={() => setConfirming(true)}
                aria-label={`Deactivate ${agent.display_name}`}
              >
                Deactivate
              </button>
            )
          ) : (
            <ActionButton size="small" pending={action.isPending('reactivate')} pendingLabel="Reactivating…" onClick={() => void reactivate()}>
              Reactivate
            </ActionButton>
          )}
        </div>
        <ProblemMessage problem={action.failed?.problem ?? null} onDismiss={action.clear} />
      </td>
    </tr>
  );
}

function fieldError(problem: ApiProblem | null, field: string): string | null {
  return problem && problem.field === field ? problem.message : null;
}

function CreateAgentForm({ onCreated }: { onCreated: (agent: AgentView) => void }) {
  const api = useApi();
  const id = useId();
  const action = useAction();
  const empty: CreateAgentRequest = { email: '', display_name: '', password: '', role: 'agent' };
  const [form, setForm] = useState<CreateAgentRequest>(empty);
  const problem = action.problemFor('create');

  async function submit(event: FormEvent) {
    event.preventDefault();
    const body: CreateAgentRequest = { ...form, email: form.email.trim(), display_name: form.display_name.trim() };
    if (!body.client_identity) delete body.client_identity;
    const result = await action.run('create', () => settle(api.POST('/api/agents', { body })));
    if (result?.ok) {
      setForm(empty);
      onCreated(result.data);
    }
  }

  const input = (name: keyof CreateAgentRequest, label: string, type = 'text', extra: Record<string, unknown> = {}) => {
    const error = fieldError(problem, name);
    return (
      <div className="field">
        <label htmlFor={`${id}-${name}`}>{label}</label>
        <input
          id={`${id}-${name}`}
          type={type}
          value={(form[name] as string | null | undefined) ?? ''}
          onChange={(e) => setForm({ ...form, [name]: e.target.value })}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `${id}-${name}-error` : undefined}
          {...extra}
        />
        {error && (
          <p id={`${id}-${name}-error`} className="field__error">
            {error}
          </p>
        )}
      </div>
    );
  };

  return (
    <form className="panel admin-form" onSubmit={(e) => void submit(e)} aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`} className="panel__title">
        Add an agent
      </h2>
      <div className="admin-form__grid">
        {input('display_name', 'Name', 'text', { required: true, autoComplete: 'off' })}
        {input('email', 'Email', 'email', { required: true, autoComplete: 'off' })}
        {input('password', 'Password (10+ characters)', 'password', { required: true, autoComplete: 'new-password', minLength: 10 })}
        <div className="field">
          <label htmlFor={`${id}-role`}>Role</label>
          <select id={`${id}-role`} value={form.role ?? 'agent'} onChange={(e) => setForm({ ...form, role: e.target.value as Role })}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {ROLE_LABELS[r]}
              </option>
            ))}
          </select>
        </div>
        {input('client_identity', 'Phone identity (optional)', 'text', { placeholder: 'from the email', autoComplete: 'off' })}
      </div>
      {problem && !problem.field && <ProblemMessage problem={problem} />}
      {problem && problem.field && !['display_name', 'email', 'password', 'client_identity'].includes(problem.field) && <ProblemMessage problem={problem} />}
      <ActionButton type="submit" variant="primary" pending={action.isPending('create')} pendingLabel="Adding…">
        Add agent
      </ActionButton>
    </form>
  );
}

function EditAgentForm({ agent, onDone }: { agent: AgentView; onDone: (changed: AgentView | null) => void }) {
  const api = useApi();
  const id = useId();
  const action = useAction();
  const [name, setName] = useState(agent.display_name);
  const [role, setRole] = useState<Role>(agent.role);
  const [password, setPassword] = useState('');
  const problem = action.problemFor('save');

  async function submit(event: FormEvent) {
    event.preventDefault();
    const body: UpdateAgentRequest = {};
    if (name.trim() !== agent.display_name) body.display_name = name.trim();
    if (role !== agent.role) body.role = role;
    if (password) body.password = password;
    if (Object.keys(body).length === 0) {
      onDone(null);
      return;
    }
    const result = await action.run('save', () => settle(api.PATCH('/api/agents/{id}', { params: { path: { id: agent.id } }, body })));
    if (result?.ok) onDone(result.data);
  }

  return (
    <form className="admin-edit" onSubmit={(e) => void submit(e)} aria-label={`Edit ${agent.display_name}`}>
      <div className="admin-form__grid">
        <div className="field">
          <label htmlFor={`${id}-name`}>Name</label>
          <input id={`${id}-name`} value={name} onChange={(e) => setName(e.target.value)} required aria-invalid={fieldError(problem, 'display_name') ? true : undefined} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-role`}>Role</label>
          <select id={`${id}-role`} value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {ROLE_LABELS[r]}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-password`}>New password (optional)</label>
          <input
            id={`${id}-password`}
            type="password"
            autoComplete="new-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            aria-describedby={`${id}-password-hint`}
            aria-invalid={fieldError(problem, 'password') ? true : undefined}
          />
          <p id={`${id}-password-hint`} className="field__hint">
            Setting one signs {agent.display_name} out everywhere.
          </p>
        </div>
      </div>
      <ProblemMessage problem={problem} />
      <div className="row-actions">
        <ActionButton type="submit" variant="primary" pending={action.isPending('save')} pendingLabel="Saving…">
          Save
        </ActionButton>
        <button type="button" className="button button--ghost" onClick={() => onDone(null)}>
          Cancel
        </button>
      </div>
    </form>
  );
}
