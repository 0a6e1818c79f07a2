export { AppConfigProvider, useAppConfig, useIsDemo, type AppConfigState } from './AppConfigProvider';
