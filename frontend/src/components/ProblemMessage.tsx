import type { ApiProblem } from '@/api';

/** The backend's reason for refusing, announced to screen readers. */
export function ProblemMessage({ problem, id, onDismiss }: { problem: ApiProblem | null; id?: string; onDismiss?: () => void }) {
  if (!problem) return null;
  return (
    <p className="problem" role="alert" id={id} data-code={problem.code}>
      <span>{problem.message}</span>
      {onDismiss && (
        <button type="button" className="link-button" onClick={onDismiss}>
          Dismiss
        </button>
      )}
    </p>
  );
}
