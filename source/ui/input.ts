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
