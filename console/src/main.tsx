// The admin console's entry point: replaces the page's loading line with the app.
import { render } from 'preact';
import { App } from './app.tsx';

const root = document.getElementById('app')!;
root.replaceChildren();
render(<App />, root);
