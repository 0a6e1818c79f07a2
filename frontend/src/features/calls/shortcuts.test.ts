import { describe, expect, it } from 'vitest';
import { isTypingTarget, shortcutFor } from './shortcuts';

function press(key: string, target: EventTarget | null = document.body, mods: Partial<{ ctrlKey: boolean; metaKey: boolean; altKey: boolean; repeat: boolean }> = {}) {
  return shortcutFor({ key, target, ctrlKey: false, metaKey: false, altKey: false, ...mods })?.id ?? null;
}

function element(html: string): HTMLElement {
  const host = document.createElement('div');
  host.innerHTML = html;
  return host.firstElementChild as HTMLElement;
}

describe('call shortcuts', () => {
  it('maps letters either case, and ?', () => {
    expect([press('a'), press('A'), press('e'), press('h'), press('m'), press('t'), press('?')]).toEqual([
      'answer',
      'answer',
      'hangup',
      'hold',
      'mute',
      'transfer',
      'help',
    ]);
    expect([press('r'), press('L')]).toEqual(['reject', 'leave']);
    expect(press('x')).toBeNull();
    expect(press('Enter')).toBeNull();
  });

  it('does nothing with Ctrl, Cmd or Alt held, or for a key held down', () => {
    expect(press('a', document.body, { ctrlKey: true })).toBeNull();
    expect(press('m', document.body, { metaKey: true })).toBeNull();
    expect(press('h', document.body, { altKey: true })).toBeNull();
    expect(press('h', document.body, { repeat: true })).toBeNull();
  });

  it('leaves typing alone: text inputs, text areas, selects, editable content', () => {
    for (const html of ['<input>', '<input type="tel">', '<input type="search">', '<textarea></textarea>', '<select></select>', '<div contenteditable="true"></div>']) {
      const target = element(html);
      expect(isTypingTarget(target)).toBe(true);
      expect(press('h', target)).toBeNull();
    }
  });

  it('still works from buttons, radios and checkboxes', () => {
    for (const html of ['<button>x</button>', '<input type="radio">', '<input type="checkbox">']) {
      expect(press('m', element(html))).toBe('mute');
    }
  });
});
