import {useSyncExternalStore} from 'react';
import {useInput, useStdin} from 'ink';
import {type UiController} from './controller.js';
import {charKeyName, keyName} from './input.js';
import {Screen} from './Screen.js';

// The React root: shows the controller's latest frame and hands it the keys.
// Frames are pushed by the controller's timer, never by events.

export type UiRootProps = {
	controller: UiController;
	/** Test hook (LOGMON_TEST_THROW=render): throw while rendering, to check the terminal is restored. */
	throwInRender?: boolean;
};

export function UiRoot({controller, throwInRender}: UiRootProps) {
	const view = useSyncExternalStore(controller.subscribe, controller.getView);
	const {isRawModeSupported} = useStdin();
	useInput((input, key) => {
		// Pasted text, or keys that arrived together (typing fast over SSH), come as one chunk:
		// one key per character, Enter and the other control keys included.
		if (input.length > 1 && !key.ctrl && !key.meta) {
			for (const ch of input) {
				const name = charKeyName(ch);
				controller.key(name, name === ch || name === 'space' ? ch : '');
			}

			return;
		}

		controller.key(keyName(input, key), input);
	}, {isActive: isRawModeSupported === true});

	if (throwInRender && view && controller.metrics.frames > 1) {
		throw new Error('LOGMON_TEST_THROW: thrown while rendering');
	}

	return view ? <Screen view={view}/> : null;
}
