"""Message templates and their rendering (Jinja2 sandbox: templates are marketer data)."""

from __future__ import annotations

from dataclasses import dataclass

from jinja2.sandbox import SandboxedEnvironment


@dataclass(frozen=True)
class Template:
    template_id: str
    subject: str
    body: str


BUILT_IN_TEMPLATES = {
    "welcome": Template(
        "welcome",
        subject="Welcome{% if first_name %}, {{ first_name }}{% endif %}!",
        body="Hello {{ first_name or 'there' }}, thank you for joining us. Here is your welcome offer.",
    ),
    "generic": Template("generic", subject="News for you", body="Hello {{ first_name or 'there' }}."),
}

_environment = SandboxedEnvironment(autoescape=False)


def template_for(template_id: str, templates: dict[str, Template] | None = None) -> Template:
    """The template named `template_id`, or the generic one when there is none by that name."""
    catalogue = templates or BUILT_IN_TEMPLATES
    return catalogue.get(template_id) or catalogue["generic"]


def render(template: Template, variables: dict[str, str]) -> tuple[str, str]:
    """Subject and body of `template` filled with `variables` (sandboxed: no code runs)."""
    subject = _environment.from_string(template.subject).render(**variables)
    body = _environment.from_string(template.body).render(**variables)
    return subject, body
