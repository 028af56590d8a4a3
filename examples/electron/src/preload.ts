// The page's preload: exposes window.ctap (contextIsolation on, sandbox on; bundled by build.mjs).
import { contextBridge, ipcRenderer } from 'electron';
import { exposeInRenderer } from 'ctap-bridge/electron/preload';

exposeInRenderer({ contextBridge, ipcRenderer });
