/**
 * Slack Block Kit for the guard's messages: the block shapes, Slack's documented limits, the per-value
 * bounds, and the packing of long line groups into sections that stay inside those limits.
 * Pure: no I/O. Every value passed in is already escaped (slack-escape.ts).
 */
import type { ActionTaken } from '../core/finding';
import type { GuardMode } from '../core/key';
import type { Severity } from '../policy/types';
import { SEVERITY_ORDER } from '../policy/types';
import { mrkdwnCode, TRUNCATION_MARKER, truncateEscaped } from './slack-escape';

/** Slack's documented limits for the parts we use. */
export const SLACK_LIMITS = {
  blocksPerMessage: 50,
  sectionText: 3000,
  sectionField: 2000,
  fieldsPerSection: 10,
  headerText: 150,
  contextElements: 10,
  contextElementText: 3000,
  buttonText: 75,
  buttonUrl: 3000,
  /** The top-level `text` (notification fallback); Slack truncates at 40,000, we keep it short. */
  fallbackText: 3000,
} as const;

export interface PlainTextObject {
  type: 'plain_text';
  text: string;
  emoji: boolean;
}
export interface MrkdwnTextObject {
  type: 'mrkdwn';
  text: string;
  /** Always true: Slack must not auto-link URLs, channel names or mentions in our text. */
  verbatim: true;
}
export interface HeaderBlock {
  type: 'header';
  text: PlainTextObject;
}
export interface SectionBlock {
  type: 'section';
  text?: MrkdwnTextObject;
  fields?: MrkdwnTextObject[];
}
export interface DividerBlock {
  type: 'divider';
}
export interface ContextBlock {
  type: 'context';
  elements: MrkdwnTextObject[];
}
export interface ButtonElement {
  type: 'button';
  text: PlainTextObject;
  url: string;
  action_id: string;
}
export interface ActionsBlock {
  type: 'actions';
  elements: ButtonElement[];
}
export type SlackBlock = HeaderBlock | SectionBlock | DividerBlock | ContextBlock | ActionsBlock;

/** The JSON body posted to an incoming webhook. */
export interface SlackMessage {
  /** Fallback for notifications and clients that cannot show blocks (mrkdwn, escaped). */
  text: string;
  blocks: SlackBlock[];
}

export const SEVERITY_EMOJI: Record<Severity, string> = {
  critical: ':rotating_light:',
  high: ':red_circle:',
  medium: ':large_orange_circle:',
  low: ':large_yellow_circle:',
  info: ':information_source:',
};

export const ACTION_LABEL: Record<ActionTaken, string> = {
  none: 'none (nothing was changed)',
  alerted: ':bell: alerted (nothing was changed)',
  remediated: ':wrench: remediated (desired policy re-applied and confirmed)',
  failed: ':x: failed (see below)',
};

export const MODE_LABEL: Record<GuardMode, string> = {
  alert: 'alert (report only)',
  remediate: 'remediate (re-apply desired)',
  'dry-run': 'dry-run (report what remediation would do)',
};

/** Per-value bounds, so one hostile value cannot crowd out the rest of the message. */
export const MAX_ARN = 400;
export const MAX_SHORT_VALUE = 200;
export const MAX_USER_AGENT = 300;
export const MAX_FREE_TEXT = 800;
export const MAX_LINE = 1500;
export const MAX_TITLE = 500;
export const MAX_LIST_ITEMS = 25;
export const MAX_LINES_PER_GROUP = 80;
/** Room kept in every section for a "… N more lines" marker. */
export const SECTION_BUDGET = SLACK_LIMITS.sectionText - 80;

export function mrkdwn(text: string): MrkdwnTextObject {
  return { type: 'mrkdwn', text, verbatim: true };
}

export function severityRank(severity: Severity): number {
  const rank = SEVERITY_ORDER.indexOf(severity);
  return rank === -1 ? SEVERITY_ORDER.length : rank;
}

export function emojiFor(severity: Severity): string {
  return SEVERITY_EMOJI[severity] ?? SEVERITY_EMOJI.info;
}

/** `a`, `b`, `c` … and 7 more — each value a code span. */
export function codeList(values: readonly string[], maxLength = MAX_SHORT_VALUE): string {
  if (values.length === 0) return '_none_';
  const shown = values.slice(0, MAX_LIST_ITEMS).map((value) => mrkdwnCode(value, maxLength));
  const more = values.length - shown.length;
  return more > 0 ? `${shown.join(', ')} _… and ${more} more_` : shown.join(', ');
}

/** A heading and its lines, packed into as many sections as it needs and is allowed. */
export interface LineGroup {
  heading: string;
  lines: string[];
}

/** Packs a group's lines into sections of at most SECTION_BUDGET characters, one line never split in two. */
export function packGroup(group: LineGroup, maxSections: number): SectionBlock[] {
  const capped = group.lines.slice(0, MAX_LINES_PER_GROUP).map((line) => truncateEscaped(line, MAX_LINE));
  const texts: string[] = [];
  let current = group.heading;
  let shown = 0;
  for (const line of capped) {
    if (current.length + 1 + line.length <= SECTION_BUDGET) {
      current += `\n${line}`;
      shown += 1;
      continue;
    }
    if (texts.length + 1 >= maxSections) break;
    texts.push(current);
    current = line;
    shown += 1;
  }
  const hidden = group.lines.length - shown;
  if (hidden > 0)
    current += `\n_${TRUNCATION_MARKER}: ${hidden} more line${hidden === 1 ? '' : 's'} not shown_`;
  texts.push(current);
  return texts.map((text) => ({ type: 'section', text: mrkdwn(text) }));
}

/** Shares the blocks left after the fixed ones: a group over its share gives up sections, largest first. */
export function packGroups(groups: readonly LineGroup[], availableBlocks: number): SectionBlock[][] {
  const needed = groups.map((group) => packGroup(group, Number.MAX_SAFE_INTEGER).length);
  const allowed = [...needed];
  let total = allowed.reduce((sum, count) => sum + count, 0);
  while (total > availableBlocks) {
    let largest = 0;
    allowed.forEach((count, index) => {
      if (count > (allowed[largest] ?? 0)) largest = index;
    });
    const count = allowed[largest] ?? 1;
    if (count <= 1) break;
    allowed[largest] = count - 1;
    total -= 1;
  }
  return groups.map((group, index) => packGroup(group, allowed[index] ?? 1));
}
