// What the dispatcher delivers to: a named receiver of one type that sends one notification.
import type { Notification, SendResult } from '../types.ts';

export type ReceiverType = 'slack' | 'pagerduty' | 'webhook';

export interface Receiver {
  readonly name: string;
  readonly type: ReceiverType;
  send(n: Notification): Promise<SendResult>;
}
