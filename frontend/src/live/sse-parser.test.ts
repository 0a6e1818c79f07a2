import { describe, expect, it } from 'vitest';
import { SseParser, type SseEvent } from './sse-parser';

function parse(chunks: string[]): SseEvent[] {
  const out: SseEvent[] = [];
  const parser = new SseParser((e) => out.push(e));
  chunks.forEach((c) => parser.push(c));
  return out;
}

describe('SseParser', () => {
  it('parses named events with JSON data', () => {
    expect(parse(['event: queue\ndata: []\n\nevent: ping\ndata: {}\n\n'])).toEqual([
      { event: 'queue', data: '[]', id: null, retry: null },
      { event: 'ping', data: '{}', id: null, retry: null },
    ]);
  });

  it('reassembles events split anywhere across chunks, including inside CRLF', () => {
    const text = 'event: agent\r\ndata: {"id":"a"}\r\n\r\nevent: call\r\ndata: {"id":"c"}\r\n\r\n';
    for (let cut = 1; cut < text.length; cut++) {
      const events = parse([text.slice(0, cut), text.slice(cut)]);
      expect(events.map((e) => [e.event, e.data])).toEqual([
        ['agent', '{"id":"a"}'],
        ['call', '{"id":"c"}'],
      ]);
    }
  });

  it('joins multi-line data, ignores comments and unknown fields, defaults to "message"', () => {
    expect(parse([': keep-alive\nfoo: bar\ndata: a\ndata:b\n\n'])).toEqual([
      { event: 'message', data: 'a\nb', id: null, retry: null },
    ]);
  });

  it('keeps id and retry, skips events without data, strips a BOM', () => {
    const events = parse(['\uFEFFid: 7\nretry: 3000\nevent: x\n\nevent: y\ndata: 1\n\n']);
    expect(events).toEqual([{ event: 'y', data: '1', id: '7', retry: 3000 }]);
  });

  it('handles bare CR line ends', () => {
    expect(parse(['event: a\rdata: 1\r\r']).map((e) => e.event)).toEqual(['a']);
  });

  it('drops a half-received event on reset', () => {
    const out: SseEvent[] = [];
    const parser = new SseParser((e) => out.push(e));
    parser.push('event: call\ndata: {"partial":');
    parser.reset();
    parser.push('event: ping\ndata: {}\n\n');
    expect(out.map((e) => e.event)).toEqual(['ping']);
  });
});
