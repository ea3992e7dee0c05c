// The mutating admission webhook: new pods start with their SizingPolicy's recommendation.
export * from './admit.ts';
export * from './certs.ts';
export * from './register.ts';
export * from './review.ts';
export * from './server.ts';
export * from './start.ts';
