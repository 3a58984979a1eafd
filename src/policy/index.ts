/** The policy engine's public surface: pure functions over policy documents (no AWS SDK, no I/O). */
export * from './access';
export * from './catalogue';
export * from './compare';
export * from './diff';
export * from './normalize';
export * from './parse';
export * from './render';
export * from './service-data';
export * from './types';
export * from './validate';
