import {type Key} from 'ink';

// Ink's (input, key) pair to the key names used in keybindings.ts.

export function keyName(input: string, key: Key): string {
	if (key.upArrow) {
		return 'up';
	}

	if (key.downArrow) {
		return 'down';
	}

	if (key.leftArrow) {
		return 'left';
	}

	if (key.rightArrow) {
		return 'right';
	}

	if (key.pageUp) {
		return 'pageup';
	}

	if (key.pageDown) {
		return 'pagedown';
	}

	if (key.home) {
		return 'home';
	}

	if (key.end) {
		return 'end';
	}

	if (key.return) {
		return 'enter';
	}

	if (key.escape) {
		return 'escape';
	}

	if (key.tab) {
		return key.shift ? 'shift+tab' : 'tab';
	}

	if (key.backspace || key.delete) {
		return 'backspace';
	}

	if (key.ctrl && input.length === 1) {
		return `ctrl+${input.toLowerCase()}`;
	}

	if (input === ' ') {
		return 'space';
	}

	return input;
}

/**
 * One character of a chunk that held several (a paste, or keys that arrived
 * together over a slow link): Enter, Tab, Backspace and Ctrl+letter as keys,
 * anything else typed.
 */
export function charKeyName(ch: string): string {
	const c = ch.charCodeAt(0);
	if (ch.length !== 1 || c >= 0x20) {
		return c === 0x7F ? 'backspace' : (ch === ' ' ? 'space' : ch);
	}

	switch (c) {
		case 0x0D:
		case 0x0A: {
			return 'enter';
		}

		case 0x09: {
			return 'tab';
		}

		case 0x08: {
			return 'backspace';
		}

		case 0x1B: {
			return 'escape';
		}

		default: {
			return `ctrl+${String.fromCharCode(c + 0x60)}`;
		}
	}
}
