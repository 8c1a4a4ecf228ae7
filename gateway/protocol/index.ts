// The wire protocol: event names, payload schemas and error codes, imported by the gateway,
// the dashboard, the bench and the tests so that a payload has one definition.
export * from './errors.js';
export * from './events.js';
export * from './schemas.js';
