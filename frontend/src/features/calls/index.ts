export { CallPanel } from './components/CallPanel';
export { CallDock } from './components/CallDock';
export { MyCallProvider, useMyCall, type MyCallState, type EndedCall } from './hooks/my-call';
export { callActions, type CallActions } from './api/call-actions';
export { CallShortcuts } from './components/CallShortcuts';
export { SHORTCUTS, shortcutFor, isTypingTarget, type Shortcut, type ShortcutId } from './shortcuts';
