# Sourced by compare.sh and soak.sh: two Hallpass replicas on one PostgreSQL database behind
# nginx, the README's configuration (round-robin, keepalive connections to the replicas except
# for the two WebSocket paths; both replicas with the issuer http://127.0.0.1:PORT and --trusted-proxies 127.0.0.1). nginx
# listens on PORT, the replicas on PORT+1 (a) and PORT+2 (b), started one after the other (the
# first start makes the signing keys both then use).
# Needs from the sourcing script: hp (the binary), pw (alice's password), out (the log folder),
# wait_port, and HALLPASS_TEST_POSTGRES (from `scripts/throwaway-postgres.sh start`).
# Usage:
#   pg_database NAME                        a new database NAME with the user alice; sets pg_url
#   start_replicas DIR LOG PORT [SSH_LISTEN] runs in DIR (config, temp files, SSH host key),
#                                           logs to $out/LOG-a.log, LOG-b.log, LOG-nginx.log;
#                                           replica a runs the SSH front on SSH_LISTEN (else
#                                           neither does); sets pg_a, pg_b, nginx_pid
#   stop_replicas

pg_database() {
  psql -q "$HALLPASS_TEST_POSTGRES" -c "CREATE DATABASE $1" >/dev/null
  pg_url=${HALLPASS_TEST_POSTGRES%/*}/$1
  "$hp" users add alice --password-stdin --db "$pg_url" <<<"$pw" >/dev/null
}

start_replicas() {
  local dir=$1 log=$2 port=$3
  local ssh_a=(--no-ssh)
  if [ -n "${4:-}" ]; then ssh_a=(--ssh-listen "$4"); fi
  local common=(--db "$pg_url" --issuer "http://127.0.0.1:$port" --trusted-proxies 127.0.0.1 --demo --log-level warning)
  mkdir -p "$dir"
  (cd "$dir" && exec "$hp" serve "${common[@]}" "${ssh_a[@]}" --listen "127.0.0.1:$((port + 1))" >"$out/$log-a.log" 2>&1) &
  pg_a=$!
  wait_port $((port + 1))
  (cd "$dir" && exec "$hp" serve "${common[@]}" --no-ssh --listen "127.0.0.1:$((port + 2))" >"$out/$log-b.log" 2>&1) &
  pg_b=$!
  wait_port $((port + 2))
  cat >"$dir/nginx.conf" <<NGINX
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log;
$( [ "$(id -u)" -eq 0 ] && echo "user root root;" )
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $dir/body; proxy_temp_path $dir/proxy; fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi; scgi_temp_path $dir/scgi;
    upstream hallpass { server 127.0.0.1:$((port + 1)); server 127.0.0.1:$((port + 2)); keepalive 64; }
    upstream hallpass_sockets { server 127.0.0.1:$((port + 1)); server 127.0.0.1:$((port + 2)); }
    map \$http_upgrade \$connection_upgrade { default upgrade; '' close; }
    server {
        listen 127.0.0.1:$port;
        proxy_http_version 1.1;
        proxy_set_header Host \$host;
        proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
        location ~ /(oauth/device/push|consent/events)\$ {
            proxy_pass http://hallpass_sockets;
            proxy_set_header Upgrade \$http_upgrade;
            proxy_set_header Connection \$connection_upgrade;
            proxy_read_timeout 1h;
        }
        location / {
            proxy_pass http://hallpass;
            proxy_set_header Connection "";
        }
    }
}
NGINX
  nginx -p "$dir" -c "$dir/nginx.conf" -g "daemon off;" 2>>"$out/$log-nginx.log" &
  nginx_pid=$!
  wait_port "$port"
}

stop_replicas() {
  kill "$nginx_pid" "$pg_a" "$pg_b" 2>/dev/null || true
  wait "$nginx_pid" "$pg_a" "$pg_b" 2>/dev/null || true
}
