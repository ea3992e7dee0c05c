// The one error type Tailor raises across its boundaries, with a closed set of codes so callers
// (CLI exit codes, status conditions, HTTP answers) can switch on them exhaustively.

export type TailorErrorCode =
  /** The user's input (flags, a file, a policy, a scenario) is wrong; the message says how to fix it. */
  | 'InvalidInput'
  /** Something the command needs is missing on this machine (Go, a binary, a file). */
  | 'Prerequisite'
  /** A process Tailor runs (etcd, kube-apiserver, ...) failed or exited. */
  | 'ComponentFailed'
  /** The Kubernetes API answered with an error or could not be reached. */
  | 'KubernetesApi'
  /** Waiting for something took longer than allowed. */
  | 'Timeout'
  /** A store Tailor keeps its state in (the usage history) fails: Tailor holds still until it works. */
  | 'StoreFailed'
  /** A bug: a state the code believes cannot happen. */
  | 'Internal';

export class TailorError extends Error {
  override readonly name = 'TailorError';
  constructor(
    readonly code: TailorErrorCode,
    message: string,
    options?: { cause?: unknown; hint?: string },
  ) {
    super(options?.hint ? `${message}\n  hint: ${options.hint}` : message, { cause: options?.cause });
  }
}

/** Exit code per error code, so scripts can tell a bad flag from a broken cluster. */
export function exitCode(code: TailorErrorCode): number {
  switch (code) {
    case 'InvalidInput':
      return 2;
    case 'Prerequisite':
      return 3;
    case 'ComponentFailed':
      return 4;
    case 'KubernetesApi':
      return 5;
    case 'Timeout':
      return 6;
    case 'StoreFailed':
      return 7;
    case 'Internal':
      return 70;
  }
}

export function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
