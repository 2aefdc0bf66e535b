#!/usr/bin/env bash
# Deploy AccuNode to ECS Fargate: register the task definitions, run the migration and wait for
# it to succeed, then roll the API and worker services (and set scaling and the schedule).
#
#   IMAGE=123456789012.dkr.ecr.eu-west-1.amazonaws.com/accunode:1.4.0 \
#   AWS_REGION=eu-west-1 ACCOUNT_ID=123456789012 CLUSTER=accunode BUCKET=acme-accunode \
#   SUBNET_A=subnet-0a... SUBNET_B=subnet-0b... SECURITY_GROUP=sg-0... VPC_ID=vpc-0... \
#   TARGET_GROUP_ARN=arn:aws:elasticloadbalancing:...:targetgroup/accunode-api/... \
#   LOAD_BALANCER_ARN=arn:aws:elasticloadbalancing:...:loadbalancer/app/accunode/... \
#   deploy/ecs/deploy.sh
#
# Nothing here is secret: the task definitions name SSM parameters, never their values.
# If the migration fails, the services keep running the previous revision (exit 1).
set -euo pipefail
shopt -s inherit_errexit # a failure inside $(...) stops the script too

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MIGRATION_WAIT_SECONDS="${MIGRATION_WAIT_SECONDS:-900}"

die() {
  echo "deploy: $*" >&2
  exit 1
}

for name in IMAGE AWS_REGION ACCOUNT_ID CLUSTER BUCKET SUBNET_A SUBNET_B SECURITY_GROUP \
  VPC_ID TARGET_GROUP_ARN LOAD_BALANCER_ARN; do
  [[ -n "${!name:-}" ]] || die "set $name (see docs/deployment.md)"
done
command -v aws >/dev/null || die "the aws CLI (v2) is needed"
export AWS_DEFAULT_REGION="$AWS_REGION"

# Every @@NAME@@ in the JSON files is one of these keys (the tests check it).
declare -A VALUE=(
  [REGION]="$AWS_REGION"
  [ACCOUNT_ID]="$ACCOUNT_ID"
  [IMAGE]="$IMAGE"
  [BUCKET]="$BUCKET"
  [CLUSTER]="$CLUSTER"
  [SUBNET_A]="$SUBNET_A"
  [SUBNET_B]="$SUBNET_B"
  [SECURITY_GROUP]="$SECURITY_GROUP"
  [VPC_ID]="$VPC_ID"
  [TARGET_GROUP_ARN]="$TARGET_GROUP_ARN"
  # ALBRequestCountPerTarget names the pair as app/<lb>/<id>/targetgroup/<tg>/<id>.
  [ALB_RESOURCE_LABEL]="${LOAD_BALANCER_ARN#*:loadbalancer/}/${TARGET_GROUP_ARN##*:}"
  [BULK_SCORE_TASK_DEFINITION_ARN]="" # known once registered, below
)

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

render() { # render FILE: the file with every placeholder replaced, written under $WORK
  local source="$HERE/$1" target="$WORK/$1" name value script=()
  for name in "${!VALUE[@]}"; do
    value="${VALUE[$name]}"
    value="${value//\\/\\\\}"
    value="${value//|/\\|}"
    value="${value//&/\\&}"
    script+=(-e "s|@@${name}@@|${value}|g")
  done
  sed "${script[@]}" "$source" >"$target"
  if grep -q '@@[A-Z_]*@@' "$target"; then
    die "$1 has a placeholder deploy.sh does not know"
  fi
  echo "file://$target"
}

register() { # register ROLE: print the new task definition's ARN
  local input
  input="$(render "task-$1.json")" # an assignment, so a failed render stops the script
  aws ecs register-task-definition --cli-input-json "$input" \
    --query 'taskDefinition.taskDefinitionArn' --output text
}

echo "deploy: registering task definitions for $IMAGE"
API_ARN="$(register api)"
WORKER_ARN="$(register worker)"
MIGRATE_ARN="$(register migrate)"
VALUE[BULK_SCORE_TASK_DEFINITION_ARN]="$(register bulk-score)"

echo "deploy: running the migration ($MIGRATE_ARN)"
NETWORK="awsvpcConfiguration={subnets=[$SUBNET_A,$SUBNET_B],securityGroups=[$SECURITY_GROUP],assignPublicIp=DISABLED}"
TASK_ARN="$(aws ecs run-task --cluster "$CLUSTER" --task-definition "$MIGRATE_ARN" \
  --launch-type FARGATE --network-configuration "$NETWORK" --started-by deploy.sh \
  --query 'tasks[0].taskArn' --output text)"
[[ "$TASK_ARN" == arn:* ]] || die "the migration task did not start"
deadline=$((SECONDS + MIGRATION_WAIT_SECONDS))
while :; do
  status="$(aws ecs describe-tasks --cluster "$CLUSTER" --tasks "$TASK_ARN" \
    --query 'tasks[0].lastStatus' --output text)"
  [[ "$status" == STOPPED ]] && break
  ((SECONDS < deadline)) || die "the migration did not finish in ${MIGRATION_WAIT_SECONDS}s: $TASK_ARN"
  sleep 6
done
# The backticks are JMESPath literals, not shell expansions.
# shellcheck disable=SC2016
EXIT_CODE="$(aws ecs describe-tasks --cluster "$CLUSTER" --tasks "$TASK_ARN" \
  --query 'tasks[0].containers[?name==`migrate`].exitCode | [0]' --output text)"
if [[ "$EXIT_CODE" != 0 ]]; then
  REASON="$(aws ecs describe-tasks --cluster "$CLUSTER" --tasks "$TASK_ARN" \
    --query 'tasks[0].stoppedReason' --output text)"
  die "the migration failed (exit $EXIT_CODE: $REASON); services unchanged. Logs: /ecs/accunode, prefix migrate"
fi
echo "deploy: migration done"

service_exists() {
  [[ "$(aws ecs describe-services --cluster "$CLUSTER" --services "$1" \
    --query 'services[0].status' --output text 2>/dev/null)" == ACTIVE ]]
}

roll() { # roll ROLE ARN: update the service to the new revision, or create it
  local service="accunode-$1" input
  input="$(render "service-$1.json")"
  if service_exists "$service"; then
    aws ecs update-service --cluster "$CLUSTER" --service "$service" \
      --task-definition "$2" --query 'service.serviceArn' --output text >/dev/null
  else
    aws ecs create-service --cli-input-json "$input" \
      --task-definition "$2" --query 'service.serviceArn' --output text >/dev/null
  fi
  echo "deploy: $service -> $2"
}

roll api "$API_ARN"
roll worker "$WORKER_ARN"

TARGET="$(render scaling-target-api.json)"
aws application-autoscaling register-scalable-target --cli-input-json "$TARGET" >/dev/null
for policy in scaling-policy-api-cpu.json scaling-policy-api-requests.json; do
  POLICY="$(render "$policy")"
  aws application-autoscaling put-scaling-policy --cli-input-json "$POLICY" >/dev/null
done

SCHEDULE="$(render schedule-bulk-score.json)"
if aws scheduler get-schedule --name accunode-nightly-bulk-score >/dev/null 2>&1; then
  aws scheduler update-schedule --cli-input-json "$SCHEDULE" >/dev/null
else
  aws scheduler create-schedule --cli-input-json "$SCHEDULE" >/dev/null
fi

echo "deploy: waiting for the services to become stable (the circuit breaker rolls back a failure)"
aws ecs wait services-stable --cluster "$CLUSTER" --services accunode-api accunode-worker
echo "deploy: done: $IMAGE"
