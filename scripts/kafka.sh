#!/usr/bin/env bash
# A real single-node Apache Kafka broker (KRaft, 127.0.0.1) for logmon's tests and benchmarks.
#
#   scripts/kafka.sh fetch          jars from Maven Central into .cache/kafka (kept between runs)
#   scripts/kafka.sh start [DIR]    format KRaft storage in DIR (default: a new temp dir), start the
#                                   broker, wait until it answers, print the bootstrap address.
#                                   A DIR that already holds a broker restarts it on its old ports.
#   scripts/kafka.sh stop [DIR]     stop it (DIR default: the last one started); --keep keeps DIR
#   scripts/kafka.sh status [DIR]   print the address and exit 0 when it answers, else exit 1
#
# Besides PLAINTEXT, the broker has a SASL_PLAINTEXT listener (PLAIN, SCRAM-SHA-256 and
# SCRAM-SHA-512, user "logmon") and an SSL listener with a self-signed certificate for
# 127.0.0.1; DIR/secured.json names their addresses, the credentials and the CA file.
#
# Only the bootstrap address goes to stdout; progress goes to stderr.
# Needs java (17+), mvn and node. Environment: KAFKA_VERSION (default 3.9.1), KAFKA_HEAP (default 512m).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version="${KAFKA_VERSION:-3.9.1}"
cache="$root/.cache/kafka"
libs="$cache/libs-$version"
current="$cache/current"

say() { printf 'kafka.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

fetch() {
	if [[ -f "$libs/.complete" ]]; then
		return
	fi

	command -v mvn >/dev/null || die "mvn is not installed"
	command -v java >/dev/null || die "java is not installed"
	say "fetching Apache Kafka $version jars from Maven Central into $libs"
	local started=$SECONDS tmp="$libs.partial"
	rm -rf "$tmp"
	# The local Maven repository lives in the cache too, so nothing is written outside the checkout.
	# The dependency plugin is pinned: a bare dependency:copy-dependencies resolves "latest" from metadata.
	mvn -B -q -f "$root/tools/kafka/pom.xml" \
		-Dmaven.repo.local="$cache/m2" -Dkafka.version="$version" \
		org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
		-DincludeScope=runtime -DoutputDirectory="$tmp" >&2
	ls "$tmp"/kafka_2.13-*.jar >/dev/null 2>&1 || die "no kafka_2.13 jar after mvn; see the output above"
	touch "$tmp/.complete"
	rm -rf "$libs"
	mv "$tmp" "$libs"
	say "fetched $(ls "$libs" | wc -l) jars in $((SECONDS - started)) s"
}

free_port() {
	node -e "const s=require('node:net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

answers() { # host port
	(exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

java_opts() { # dir
	echo "-Dlog4j.configuration=file:$1/log4j.properties -Dkafka.logs.dir=$1/logs -Djava.awt.headless=true"
}

configure() { # dir: write the config of a new broker on four free ports
	local d="$1" port controller sasl ssl p
	local -a ports=()
	while ((${#ports[@]} < 4)); do
		p="$(free_port)"
		[[ " ${ports[*]} " == *" $p "* ]] || ports+=("$p")
	done
	port="${ports[0]}" controller="${ports[1]}" sasl="${ports[2]}" ssl="${ports[3]}"
	mkdir -p "$d/logs" "$d/data"
	# A throw-away secret for a throw-away broker on loopback.
	local user=logmon secret=logmon-secret storepass=logmon-store
	keytool -genkeypair -alias broker -keyalg RSA -keysize 2048 -validity 3650 -dname CN=127.0.0.1 \
		-ext SAN=ip:127.0.0.1,dns:localhost -keystore "$d/broker.p12" -storetype PKCS12 \
		-storepass "$storepass" -keypass "$storepass" >"$d/logs/keytool.log" 2>&1 \
		|| { cat "$d/logs/keytool.log" >&2; die "keytool could not make the broker's certificate"; }
	keytool -exportcert -rfc -alias broker -keystore "$d/broker.p12" -storepass "$storepass" -file "$d/ca.pem" \
		>>"$d/logs/keytool.log" 2>&1 || { cat "$d/logs/keytool.log" >&2; die "keytool could not export the certificate"; }
	# The shipped KRaft server.properties of 3.9, loopback only, plus test tuning and the
	# SASL and SSL listeners.
	cat >"$d/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller,SASL_PLAINTEXT://127.0.0.1:$sasl,SSL://127.0.0.1:$ssl
advertised.listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller,SASL_PLAINTEXT://127.0.0.1:$sasl,SSL://127.0.0.1:$ssl
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="$user" password="$secret" user_$user="$secret";
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PKCS12
ssl.keystore.location=$d/broker.p12
ssl.keystore.password=$storepass
ssl.key.password=$storepass
ssl.client.auth=none
log.dirs=$d/data
num.partitions=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
# Default 50: the first group join would create 50 partitions.
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
# Default 3000 ms added to every first group join.
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
# Room for the tests' 900 KB record in a batch with others.
message.max.bytes=4194304
replica.fetch.max.bytes=4194304
EOF
	cat >"$d/secured.json" <<EOF
{"sasl": "127.0.0.1:$sasl", "ssl": "127.0.0.1:$ssl", "ca": "$d/ca.pem", "username": "$user", "password": "$secret"}
EOF
	cat >"$d/log4j.properties" <<'EOF'
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.request.logger=WARN
EOF
	echo "127.0.0.1:$port" >"$d/bootstrap"
	local cid
	# shellcheck disable=SC2046
	cid="$(java $(java_opts "$d") -cp "$libs/*" kafka.tools.StorageTool random-uuid)"
	# shellcheck disable=SC2046
	java $(java_opts "$d") -cp "$libs/*" kafka.tools.StorageTool format -t "$cid" -c "$d/server.properties" \
		--add-scram "SCRAM-SHA-256=[name=$user,password=$secret]" --add-scram "SCRAM-SHA-512=[name=$user,password=$secret]" \
		>"$d/logs/format.log" 2>&1 \
		|| { cat "$d/logs/format.log" >&2; die "formatting KRaft storage failed"; }
}

running() { # dir
	[[ -f "$1/kafka.pid" ]] && kill -0 "$(cat "$1/kafka.pid")" 2>/dev/null
}

start() {
	local d="${1:-}" own=""
	fetch
	if [[ -z "$d" ]]; then
		d="$(mktemp -d "${TMPDIR:-/tmp}/logmon-kafka.XXXXXX")"
		own=1
	fi

	mkdir -p "$d"
	d="$(cd "$d" && pwd)"
	if running "$d"; then
		cat "$d/bootstrap"
		return
	fi

	if [[ ! -f "$d/bootstrap" ]]; then
		configure "$d"
	fi

	local address host port
	address="$(cat "$d/bootstrap")"
	host="${address%:*}"
	port="${address##*:}"
	local log="$d/logs/stdout.log"
	: >"$log"
	# shellcheck disable=SC2046
	nohup java -Xms"${KAFKA_HEAP:-512m}" -Xmx"${KAFKA_HEAP:-512m}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
		-XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent $(java_opts "$d") \
		-cp "$libs/*" kafka.Kafka "$d/server.properties" >"$log" 2>&1 </dev/null &
	echo $! >"$d/kafka.pid"
	# The default broker of stop/status when none is named: the last one started without a DIR.
	if [[ -n "$own" ]]; then
		mkdir -p "$cache"
		echo "$d" >"$current"
	fi

	local deadline=$((SECONDS + ${KAFKA_START_TIMEOUT:-120}))
	until grep -q 'Kafka Server started' "$log" && answers "$host" "$port"; do
		if ! running "$d"; then
			tail -n 40 "$log" >&2
			die "the broker exited while starting; log: $log"
		fi

		if ((SECONDS > deadline)); then
			tail -n 40 "$log" >&2
			stop "$d"
			die "the broker did not start in time; log: $log"
		fi

		sleep 0.25
	done

	say "broker up at $address (dir $d)"
	echo "$address"
}

stop() {
	local d="${1:-}" keep="${2:-}"
	if [[ -z "$d" && -f "$current" ]]; then
		d="$(cat "$current")"
	fi

	[[ -n "$d" && -d "$d" ]] || { say "no broker to stop"; return 0; }
	if running "$d"; then
		local pid
		pid="$(cat "$d/kafka.pid")"
		kill "$pid" 2>/dev/null || true
		local deadline=$((SECONDS + 30))
		while kill -0 "$pid" 2>/dev/null; do
			if ((SECONDS > deadline)); then
				kill -9 "$pid" 2>/dev/null || true
				break
			fi

			sleep 0.2
		done
	fi

	rm -f "$d/kafka.pid"
	if [[ "$keep" != "--keep" ]]; then
		rm -rf "$d"
		if [[ -f "$current" && "$(cat "$current")" == "$d" ]]; then
			rm -f "$current"
		fi
	fi

	say "broker stopped"
}

status() {
	local d="${1:-}"
	if [[ -z "$d" && -f "$current" ]]; then
		d="$(cat "$current")"
	fi

	if [[ -n "$d" && -f "$d/bootstrap" ]] && running "$d"; then
		local address
		address="$(cat "$d/bootstrap")"
		if answers "${address%:*}" "${address##*:}"; then
			echo "$address"
			return 0
		fi
	fi

	say "not running"
	return 1
}

case "${1:-}" in
	fetch) fetch; say "jars in $libs" ;;
	start) start "${2:-}" ;;
	stop)
		if [[ "${2:-}" == "--keep" ]]; then stop "${3:-}" --keep; else stop "${2:-}" "${3:-}"; fi
		;;
	status) status "${2:-}" ;;
	*) echo "usage: scripts/kafka.sh fetch|start [DIR]|stop [--keep] [DIR]|status [DIR]" >&2; exit 2 ;;
esac
