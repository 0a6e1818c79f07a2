export { HistoryPage } from './components/HistoryPage';
export { CallDetailPage } from './components/CallDetailPage';
export { timelineDetails, timelineLabel, type TimelineContext } from './timeline';
export { filtersFromParams, filtersToParams, toQuery, type HistoryFilters } from './filters';
