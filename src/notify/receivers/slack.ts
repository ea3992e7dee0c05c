// Slack incoming webhook: one message per notification, `{text, blocks}` as Slack's "Sending
// messages using incoming webhooks" (https://api.slack.com/messaging/webhooks) describes: `text`
// is the notification fallback when `blocks` are given; Block Kit limits (section text 3000
// characters, at most 10 fields of 2000 each: https://api.slack.com/reference/block-kit/blocks)
// are kept. Slack has no resolve: a resolved alert is a second message that says so.
import type { Notification } from '../types.ts';
import { postJson, type Fetch } from './http.ts';
import type { Receiver } from './receiver.ts';

export interface SlackPayload {
  readonly text: string;
  readonly blocks: readonly SlackBlock[];
}

export type SlackBlock =
  | { readonly type: 'section'; readonly text: { readonly type: 'mrkdwn'; readonly text: string } }
  | {
      readonly type: 'section';
      readonly fields: readonly { readonly type: 'mrkdwn'; readonly text: string }[];
    }
  | {
      readonly type: 'context';
      readonly elements: readonly { readonly type: 'mrkdwn'; readonly text: string }[];
    };

export function slackPayload(n: Notification): SlackPayload {
  const a = n.alert;
  const head =
    n.status === 'resolved'
      ? `:white_check_mark: *Resolved* ${a.kind}: ${a.summary}`
      : `${icon(a.severity)} *${a.kind}*: ${a.summary}`;
  const facts = [
    ...Object.entries(a.labels).map(([k, v]) => [k, v] as const),
    ...Object.entries(a.details).map(([k, v]) => [k, String(v)] as const),
  ].slice(0, 10);
  return {
    text: cut(`${n.status === 'resolved' ? 'Resolved: ' : ''}${a.kind}: ${a.summary}`, 3000),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: cut(escape(head), 3000) } },
      ...(facts.length > 0
        ? [
            {
              type: 'section' as const,
              fields: facts.map(([k, v]) => ({
                type: 'mrkdwn' as const,
                text: cut(`*${escape(k)}*\n${escape(v)}`, 2000),
              })),
            },
          ]
        : []),
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: cut(`Tailor · dedup key \`${escape(a.key)}\``, 3000) }],
      },
    ],
  };
}

export function slackReceiver(name: string, url: string, o: { timeoutMs: number; fetch?: Fetch }): Receiver {
  return {
    name,
    type: 'slack',
    send: (n) => postJson(url, slackPayload(n), o),
  };
}

function icon(severity: string): string {
  return severity === 'critical' || severity === 'error'
    ? ':rotating_light:'
    : severity === 'warning'
      ? ':warning:'
      : ':information_source:';
}

/** Slack's mrkdwn needs &, < and > escaped (https://api.slack.com/reference/surfaces/formatting#escaping). */
function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
