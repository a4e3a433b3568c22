# pocketlm — the demo app (included by the top-level Makefile).
#
#   make demo        builds dist/ (make wasm) and serves demo/ at http://localhost:8080 (PORT=...; HOST=0.0.0.0 for
#                    a phone on the LAN) with COOP/COEP, CSP and HTTP Range, until Ctrl-C
#   make demo-cli    the bundled model continues "Once upon a time" in the native CLI
#   make demo-site   a self-contained folder (app, dist, service worker, bundled models) for any static host:
#                    build/demo-site, or DEMO_SITE=dir (see demo/README.md for the headers a host should send)
.PHONY: demo demo-cli demo-site

DEMO_SITE  ?= build/demo-site
DEMO_APP   := demo/index.html demo/app.js demo/style.css demo/sw.js demo/manifest.webmanifest demo/_headers
DEMO_MODELS := models/stories260K.gguf models/TinyStories-656K-Q8_0.gguf

demo: wasm
	node demo/server.mjs

demo-cli: deps native
	build/native/pocketlm run -m models/stories260K.gguf -p "Once upon a time" -n 100

demo-site: wasm
	rm -rf $(DEMO_SITE)
	mkdir -p $(DEMO_SITE)/dist $(DEMO_SITE)/models $(DEMO_SITE)/icons
	cp $(DEMO_APP) $(DEMO_SITE)/
	cp demo/icons/*.png $(DEMO_SITE)/icons/
	cp dist/*.js dist/*.wasm $(DEMO_SITE)/dist/
	cp $(DEMO_MODELS) $(DEMO_SITE)/models/
	@echo "$(DEMO_SITE): copy it to any static host; try it with: node demo/server.mjs $(DEMO_SITE)"
