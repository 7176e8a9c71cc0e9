# The two commands: `make run` and `make test`. Both create .venv with Python 3.12+ on their own.
PYTHON ?= $(shell scripts/find-python)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
DEV_ENV := DEBUG=1

.PHONY: install run test lint bench screenshots clean mutation messages

# The six languages (README: Languages). Catalogues are compiled from locale/*/LC_MESSAGES/*.po by
# Debian's msgfmt (package gettext) whenever a .po is newer than its .mo; the .mo files are not
# committed. locale/en holds only Mitel's wording over Django admin's phrases, and djangojs.po the
# passkey registration script's words: both compiled, never made by `messages`.
LANGUAGES := fr de es it nl
MO_FILES := $(foreach l,en $(LANGUAGES),locale/$(l)/LC_MESSAGES/django.mo) \
            $(foreach l,$(LANGUAGES),locale/$(l)/LC_MESSAGES/djangojs.mo)
# Without msgfmt the site still runs, in English only (and tests/test_translations.py fails).
locale/%.mo: locale/%.po
	@if command -v msgfmt >/dev/null; then msgfmt --check -o $@ $<; \
	else echo "No msgfmt: pages stay in English. apt-get install gettext"; fi

# After marking strings: every language's catalogue again (new strings empty, changed ones fuzzy:
# translate both; tests/test_translations.py fails until you have).
messages: install
	$(DEV_ENV) $(BIN)/python manage.py makemessages --no-location --no-obsolete --no-wrap \
	  $(foreach l,$(LANGUAGES),-l $(l)) --ignore=.venv --ignore=node_modules --ignore=mutants \
	  --ignore=tests --ignore=bench --ignore=staticfiles --ignore=scripts

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

# axe-core for the browser tests (npm, pinned in package-lock.json); skipped where npm is missing.
NODE_STAMP := node_modules/.package-lock.json
NODE_DEPS := $(if $(shell command -v npm 2>/dev/null),$(NODE_STAMP))
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

# The task worker (forgot-password e-mails) runs beside the server and stops with it.
run: install $(MO_FILES)
	$(DEV_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEV_ENV) $(BIN)/python manage.py seed_demo
	@$(DEV_ENV) $(BIN)/python manage.py db_worker --no-reload & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(DEV_ENV) $(BIN)/python manage.py runserver 127.0.0.1:8000

test: install $(NODE_DEPS) $(MO_FILES)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Every sign-in screen and Connect Portal page at 360 px and 1280 px wide, into docs/screenshots/
# (linked from the README).
screenshots: install $(NODE_STAMP) $(MO_FILES)
	@test -x /usr/bin/chromium || { echo "make screenshots needs Chromium: apt-get install chromium"; exit 1; }
	rm -f docs/screenshots/*.png
	SCREENSHOT_DIR=docs/screenshots $(BIN)/python -m pytest tests/browser/test_screens.py \
		tests/browser/test_portal_pages.py -q -p no:cacheprovider
	@if command -v pngquant >/dev/null; then pngquant --force --ext .png --quality 65-90 --skip-if-larger \
		--strip docs/screenshots/*.png || test $$? -ge 98; else echo "(apt-get install pngquant makes them smaller)"; fi

# Mutation testing of the security modules ([tool.mutation.modules] in pyproject.toml), one module at
# a time with its own tests (scripts/mutation_run.py), then the kill rate of each
# (scripts/mutation_report.py; equivalent mutants in scripts/mutation-equivalents.txt). Not part of
# `make test` or CI: tens of minutes. MODULE runs some modules, e.g. MODULE=accounts/clientip.py;
# MUTANTS names mutants of that module (e.g. MUTANTS='accounts.clientip.x*'); a module's run starts
# afresh unless MUTATION_KEEP=1 (then its killed mutants and listed equivalents stay; the others run again).
# MUTATION_CHILDREN mutants run side by side (default 1: the machine is shared).
mutation: install
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-mutation.txt
	$(BIN)/python scripts/mutation_run.py $(MODULE) --max-children $(or $(MUTATION_CHILDREN),1) \
		$(if $(MUTATION_KEEP),--keep) $(if $(MUTANTS),--mutants $(foreach m,$(MUTANTS),'$(m)'))
	$(BIN)/python scripts/mutation_report.py --list

lint: install
	$(BIN)/ruff check .

# Ratios of the sign-in under gunicorn on the local PostgreSQL and Redis (DB 9): one JSON object on
# stdout, progress on stderr, a copy in bench/results/. About five minutes. README: Benchmarks.
bench: install
	@$(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles db.sqlite3 db.sqlite3-shm db.sqlite3-wal node_modules $(MO_FILES)

# A local OpenID Connect provider for the demo's Single Sign On, on http://127.0.0.1:9400, with erin
# (Contoso, Entra ID) and frank (Initech, Okta); the demo's SSO connections are pointed at it first.
# Start `make run` first, then this in a second terminal. README: "Single Sign On".
.PHONY: demo-idp
demo-idp: install
	$(DEV_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEV_ENV) $(BIN)/python manage.py seed_demo >/dev/null
	$(DEV_ENV) $(BIN)/python manage.py sso_demo_provider http://127.0.0.1:9400
	$(BIN)/oidc-provider-mock --port 9400 --require-nonce \
	  --user-claims '{"sub": "erin-entra-id", "preferred_username": "erin@contoso.example", "name": "Erin Evans"}' \
	  --user-claims '{"sub": "frank-okta", "preferred_username": "frank@initech.example", "name": "Frank Fischer"}' \
	  --user-claims '{"sub": "grace-entra-id", "preferred_username": "grace@acme.example", "name": "Grace Hopper"}'
