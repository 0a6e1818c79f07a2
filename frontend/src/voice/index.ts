export type { IncomingCallInfo, VoiceClient, VoiceClientEvents, VoiceClientState, VoiceError } from './types';
export {
  currentCallSid,
  END_REASON_LABELS,
  IDLE,
  isBusy,
  step,
  transition,
  type CallInfo,
  type CallState,
  type EndedCall,
  type WaitingCall,
  type EndReason,
  type PhoneEvent,
} from './call-machine';
export { Phone, type LastCall, type PhoneOptions, type PhoneSnapshot } from './phone';
export { createVoiceClient, voiceTokenFetcher, type VoiceClientContext } from './create-voice-client';
export { SimVoiceClient, legIsUp, type SimVoiceClientOptions } from './sim-voice-client';
export { TwilioVoiceClient, describeSdkError, type TwilioVoiceClientOptions } from './twilio-voice-client';
export { TokenRefresher, refreshDelay, type IssuedToken } from './token-refresh';
export { createSilentRinger, createWebAudioRinger, type Ringer } from './ringer';
export { PhoneProvider, usePhone, usePhoneState } from './provider';
export {
  listAudioDevices,
  loadAudioPreferences,
  outputSelectionSupported,
  playTestTone,
  requestMicrophone,
  saveAudioPreferences,
  AUDIO_PREFERENCES_KEY,
  type AudioDeviceOption,
  type AudioDevices,
  type AudioPreferences,
} from './audio-devices';
