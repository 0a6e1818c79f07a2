export { DemoControls, HangUpAsCustomer } from './components/DemoControls';
