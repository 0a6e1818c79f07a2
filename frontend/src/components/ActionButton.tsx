import type { ButtonHTMLAttributes, ReactNode, Ref } from 'react';

interface ActionButtonProps extends Omit<ButtonHTMLAttributes<HTMLButtonElement>, 'children'> {
  /** This button's action is in flight: show `pendingLabel` and a spinner. */
  pending?: boolean;
  pendingLabel?: string;
  variant?: 'primary' | 'ghost' | 'danger' | 'success' | 'warning';
  size?: 'normal' | 'small' | 'large';
  children: ReactNode;
  ref?: Ref<HTMLButtonElement>;
}

/** A button that shows its action is in progress (disabled, spinner, "Holding…"). */
export function ActionButton({
  pending = false,
  pendingLabel,
  variant = 'ghost',
  size = 'normal',
  disabled,
  children,
  className,
  type = 'button',
  ref,
  ...rest
}: ActionButtonProps) {
  return (
    <button
      ref={ref}
      type={type}
      className={['button', `button--${variant}`, size !== 'normal' ? `button--${size}` : '', className ?? '']
        .filter(Boolean)
        .join(' ')}
      disabled={disabled || pending}
      aria-busy={pending || undefined}
      {...rest}
    >
      {pending && <span className="spinner" aria-hidden="true" />}
      {pending && pendingLabel ? pendingLabel : children}
    </button>
  );
}
