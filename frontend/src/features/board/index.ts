export { BoardPage } from './components/BoardPage';
export { useBoardCalls } from './hooks/use-board-calls';
export { applyCallEvent, nobodyToAnswer, stateOf, LIVE_STATE_LABELS } from './board-model';
