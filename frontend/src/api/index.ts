export { createApiClient, authMiddleware, type ApiClient, type SessionPort } from './client';
export { ApiProvider, useApi } from './provider';
export { toApiProblem, networkProblem, settle, type ApiProblem, type ApiErrorCode, type ApiResult } from './errors';
export type * from './types';
export { createQueryClient, orThrow } from './query';
