"""Wires our additions into LocalStack at start: fault injection (`faults`: a request handler
before the call is performed, a response handler after it) and the control endpoints
`/_localstack/provision/faults` and `/_localstack/provision/tasks` (the ECS task runner's settings,
`task_runner`)."""

import json
import logging

from localstack.aws import handlers
from localstack.aws.api import CommonServiceException
from localstack.aws.handlers.service import ServiceExceptionSerializer
from localstack.http import Request, Resource, Response
from localstack.runtime import hooks
from localstack.services.internal import get_internal_apis

from . import task_runner
from .faults import FAULTS, Settings, _initial_settings, access_key_of

LOG = logging.getLogger(__name__)
SERIALIZER = ServiceExceptionSerializer()


def _touched(context):
    if FAULTS.settings is None or not context.service or not context.operation:
        return None
    service = context.service.service_name
    if not FAULTS.applies(service, access_key_of(context.request.headers)):
        return None
    return service


def before_call(chain, context, response):
    service = _touched(context)
    if service is None:
        return
    error = FAULTS.before(service, context.operation.name, context.service_request or {})
    if error:
        code, message, status = error
        LOG.info("fault: %s %s answered %s", service, context.operation.name, code)
        raise CommonServiceException(code, message, status_code=status)


def after_call(chain, context, response):
    service = _touched(context)
    if service is None or response.status_code >= 400:
        return
    error = FAULTS.after(service, context.operation.name, context.service_response)
    if error:
        code, message, status = error
        LOG.info("fault: %s %s performed, answer lost", service, context.operation.name)
        exception = CommonServiceException(code, message, status_code=status)
        response.update_from(SERIALIZER.create_exception_response(exception, context))


class FaultsResource:
    """GET: settings and counters; POST: new settings (counters zeroed); DELETE: all off."""

    def on_get(self, request: Request):
        return Response(json.dumps(FAULTS.report()), 200, mimetype="application/json")

    def on_post(self, request: Request):
        try:
            settings = Settings(json.loads(request.get_data() or b"{}"))
        except (ValueError, TypeError) as error:
            return Response(json.dumps({"error": str(error)}), 400, mimetype="application/json")
        FAULTS.configure(settings)
        LOG.warning("fault injection on: %s", settings.raw)
        return self.on_get(request)

    def on_delete(self, request: Request):
        FAULTS.configure(None)
        return self.on_get(request)


class TasksResource:
    """GET: the task runner's settings and the tasks it runs; POST: new settings."""

    def on_get(self, request: Request):
        with task_runner.LOCK:
            running = sorted(task_runner.RUNNING)
        report = {"settings": task_runner.SETTINGS["current"].raw, "running": running}
        return Response(json.dumps(report), 200, mimetype="application/json")

    def on_post(self, request: Request):
        try:
            task_runner.configure(json.loads(request.get_data() or b"{}"))
        except (ValueError, TypeError) as error:
            return Response(json.dumps({"error": str(error)}), 400, mimetype="application/json")
        return self.on_get(request)


@hooks.on_infra_start()
def install_provision_extras():
    _initial_settings()
    task_runner.initial_settings()
    get_internal_apis().add(Resource("/_localstack/provision/tasks", TasksResource()))
    handlers.serve_custom_service_request_handlers.append(before_call)
    handlers.run_custom_response_handlers.append(after_call)
    get_internal_apis().add(Resource("/_localstack/provision/faults", FaultsResource()))
