# costopt service image: `costopt serve` by default. Multi-stage: wheels are built in the first
# stage so the runtime image carries no compiler and no pip cache.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY costopt ./costopt
COPY jobs ./jobs
COPY api ./api
COPY reports ./reports
RUN pip wheel --no-cache-dir --wheel-dir /wheels -c constraints.txt .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 costopt
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
# The data directory (SQLite store, leader lock, reports) owned by the user that writes it: a
# named volume mounted here starts as a copy of it, ownership included, so uid 10001 can write.
RUN install -d -o costopt -g costopt /data /data/reports
USER costopt
WORKDIR /home/costopt
ENV COSTOPT_CONFIG=/etc/costopt/costopt.yaml
EXPOSE 8080
# The API's health. A container that serves no HTTP (the scheduler) turns it off
# (`healthcheck: disable: true` in compose), or it would always show as unhealthy.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status == 200 else 1)"
CMD ["costopt", "serve", "--host", "0.0.0.0", "--port", "8080"]
