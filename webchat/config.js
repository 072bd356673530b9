/* Where the chat connects. Empty server: this page's own origin (behind nginx, deploy/).
 * `python webchat/serve.py --rasa-url ...` (make serve) answers this file with its own value. */
window.RAPPORT_CHAT = { server: "", path: "/socket.io" };
