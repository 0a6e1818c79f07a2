export { HistoryPage } from './components/HistoryPage';
export { CallDetailPage, describeEvent } from './components/CallDetailPage';
export { filtersFromParams, filtersToParams, toQuery, type HistoryFilters } from './filters';
